"""Bad operator input: one line on stderr, exit 2, nothing changed on disk."""

import os
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from tests.harness.store_builder import build_store, write_segment
from tests.maintenance.cluster import file_sizes, wubloader

T0, T1 = STORE_START.isoformat(), (STORE_START + timedelta(minutes=1)).isoformat()


@pytest.fixture
def store(tmp_path):
    base = tmp_path / "store"
    build_store(base, STORE_START, 30)
    outside = write_segment(tmp_path / "elsewhere", STORE_START)
    hour = base / "chan" / "source" / "2024-05-01T10"
    os.symlink(outside, hour / ("00:58.000000-2.0-full-" + outside.name.split("-full-")[1]))
    os.symlink(outside.parent, base / "chan" / "source" / "2024-05-01T11")
    return base


def cases(base):
    hour = base / "chan" / "source" / "2024-05-01T10"
    real = sorted(hour.iterdir())[0]
    linked = next(p for p in hour.iterdir() if p.is_symlink())
    via_dir_link = base / "chan" / "source" / "2024-05-01T11" / linked.name
    return {
        "dotdot": ["tombstone", "add", f"{hour}/../2024-05-01T10/{real.name}"],
        "outside": ["tombstone", "add", "--base-dir", base, str(via_dir_link.parent.resolve() / real.name)],
        "symlink file": ["tombstone", "add", "--base-dir", base, linked],
        "symlink dir": ["tombstone", "add", "--base-dir", base, via_dir_link],
        "not a segment": ["tombstone", "add", "--base-dir", base, hour / "notes.txt"],
        "hidden": ["tombstone", "add", "--base-dir", base, hour / f".{real.name}"],
        "start after end": [
            "tombstone", "add", "--base-dir", base, "--channel", "chan", "--start", T1, "--end", T0,
        ],
        "unknown channel": [
            "tombstone", "add", "--base-dir", base, "--channel", "nope", "--start", T0, "--end", T1,
        ],
        "unknown quality": [
            "tombstone", "add", "--base-dir", base, "--channel", "chan", "--quality", "720p",
            "--start", T0, "--end", T1,
        ],
        "bad time": ["tombstone", "add", "--base-dir", base, "--channel", "chan", "--start", "x", "--end", T1],
        "status bad node": ["tombstone", "status", "--base-dir", base, "--nodes", "ftp://x"],
        "purge reversed": ["tombstone", "purge", "--base-dir", base, "--nodes", "http://127.0.0.1:9",
                           "--start", T1, "--end", T0],
        "verify unknown channel": ["verify", "--base-dir", base, "--channel", "nope"],
        "verify reversed": ["verify", "--base-dir", base, "--start", T1, "--end", T0],
        "verify bad rate": ["verify", "--base-dir", base, "--max-rate", "-1"],
        "versions reversed": ["versions", "--base-dir", base, "--nodes", "http://127.0.0.1:9",
                              "--start", T1, "--end", T0],
    }  # fmt: skip


def test_each_bad_input_is_one_line_and_exit_2(store):
    before = file_sizes(store)
    for name, args in cases(store).items():
        done = wubloader(*args)
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (name, done.stderr)
        assert "Traceback" not in done.stderr
        assert file_sizes(store) == before, name


def test_a_bad_path_among_good_ones_changes_nothing(store):
    hour = store / "chan" / "source" / "2024-05-01T10"
    good = sorted(hour.iterdir())[:3]
    before = file_sizes(store)
    done = wubloader("tombstone", "add", *good, f"{hour}/../x/{good[0].name}")
    assert done.returncode == 2 and file_sizes(store) == before
    done = wubloader("tombstone", "add", *good)
    assert done.returncode == 0 and "3 tombstones added" in done.stdout
