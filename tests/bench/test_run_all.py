"""bench/run_all.py runs a bench in quick mode and prints (and saves) one table of its recorded figures."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.run_all import ratio_text

ROOT = Path(__file__).resolve().parents[2]
RUN_ALL = str(ROOT / "bench" / "run_all.py")


@pytest.mark.slow
def test_run_all_quick_store_table(tmp_path):
    """Slow (~15 s: builds a 24 h store): the cheapest bench, end to end through the table."""
    out = subprocess.run(
        [sys.executable, RUN_ALL, "--quick", "--only", "store", "--json", str(tmp_path / "rows.json")],
        capture_output=True, text=True, timeout=280, check=True,
    ).stdout  # fmt: skip
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["measure"] for r in rows] == [
        "selection 1 h, new index", "selection 1 h, warm + iterate", "selection 1 h, warm pieces (playlists)",
        "selection 24 h, new index", "selection 24 h, warm + iterate", "selection 24 h, warm pieces (playlists)",
    ]  # fmt: skip
    assert all(r["bench"] == "store" and r["ratio"] > 0 and r["unit"] == "ms" for r in rows)
    table = out.split("load average now", 1)[1].splitlines()[1:]
    assert table[0].split() == [
        "bench",
        "measure",
        "ours",
        "reference",
        "unit",
        "ratio",
        "target",
        "met",
        "load",
    ]
    assert len(table) == 1 + len(rows)


def test_run_all_refuses_an_unknown_bench():
    done = subprocess.run(
        [sys.executable, RUN_ALL, "--only", "nosuch"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "unknown bench nosuch" in done.stderr


def test_run_all_names_what_is_missing_before_running_anything():
    """Without the test tools (here: no wrk or curl on PATH) it says what to run instead of failing later."""
    env = {**os.environ, "PATH": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, RUN_ALL, "--quick", "--only", "restreamer"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == "run_all: curl, wrk missing: the benches use the test suite's tools; run bin/setup --test first\n"
    )
    assert "running" not in done.stdout


def test_ratios_keep_the_digit_that_decides_a_target():
    assert ratio_text(0.8966) == "0.897x"  # two decimals printed "0.90x" beside "NOT met"
    assert ratio_text(1.47) == "1.47x"
    assert ratio_text(22.236) == "22.2x"
    assert ratio_text(1342.18) == "1342x"
    assert ratio_text(None) == "-"
