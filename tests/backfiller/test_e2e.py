"""End to end: real restreamer node processes on 127.0.0.1 and the `wubloader backfiller` command."""

import itertools
import os
import random
import signal
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from tests.backfiller.snapshots import all_files, temp_files, tombstones, visible
from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.store_builder import write_segment
from wubloader.store import create_tombstone

pytestmark = pytest.mark.slow

QUALITIES = ("source", "480p")


def start_node(base: Path, log_dir: Path, components: list, port: int | None = None):
    base.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    node = start_component(["restreamer", "--base-dir", str(base), "--port", str(port)], log_dir, port=port)
    components.append(node)
    return node


def backfill_args(base: Path, *peers, extra: tuple[str, ...] = ()) -> list[str]:
    nodes = ",".join(p.url for p in peers)
    return [
        sys.executable,
        "-m",
        "wubloader",
        "backfiller",
        "--base-dir",
        str(base),
        "--nodes",
        nodes,
        *extra,
    ]


def run_backfill_once(base: Path, *peers, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*backfill_args(base, *peers, extra=extra), "--once"], capture_output=True, text=True, timeout=120
    )


def test_three_nodes_with_random_holes_converge(tmp_path, components):
    rng = random.Random(6)
    bases = [tmp_path / name for name in ("a", "b", "c")]
    originally: list[set[str]] = [set(), set(), set()]
    for quality in QUALITIES:
        for index in range(3 * 120):  # 10:00 → 13:00 in 30 s segments
            start = STORE_START + timedelta(seconds=30 * index)
            holders = [n for n in range(3) if rng.random() < 0.5] or [rng.randrange(3)]
            hour = start.hour
            holders = [
                n for n in holders if not (n == 0 and hour == 11 and quality == "source")
            ]  # whole hours
            holders = [n for n in holders if not (n == 1 and hour == 12 and quality == "480p")] or [2]
            for n in holders:
                path = write_segment(bases[n], start, 30.0, quality=quality)
                originally[n].add(str(path.relative_to(bases[n])))
    # tombstones on node A only, some of them for segments B or C hold visibly
    hidden = sorted(originally[0])[::37]
    for rel in hidden:
        create_tombstone(bases[0] / rel)
    # a tombstone-only hour on node C that A and B lack entirely
    for index in range(4):
        purged = write_segment(
            bases[2], STORE_START - timedelta(hours=2) + timedelta(seconds=30 * index), 30.0
        )
        create_tombstone(purged)
        purged.unlink()
    union_visible = set().union(*originally) - set(hidden)
    union_tombstones = set().union(*(tombstones(b) for b in bases))
    nodes = [start_node(base, tmp_path / "logs", components) for base in bases]
    for n in range(3):
        peers = [nodes[m] for m in range(3) if m != n]
        done = run_backfill_once(bases[n], *peers)
        assert done.returncode == 0, done.stderr[-3000:]
    snapshots = [visible(b) for b in bases]
    assert set(snapshots[0]) == union_visible
    assert snapshots[0] == snapshots[1] == snapshots[2]
    for base in bases:
        assert tombstones(base) == union_tombstones
        assert temp_files(base) == []
    for n, base in enumerate(bases):
        for rel in hidden:  # a tombstoned segment was never copied to a node that lacked it
            assert (rel in all_files(base)) == (rel in originally[n])


def test_peer_killed_mid_transfer_and_restarted(tmp_path, components):
    remote, local = tmp_path / "remote", tmp_path / "local"
    for index in range(40):
        write_segment(remote, STORE_START + timedelta(seconds=2 * index), content=os.urandom(100_000))
    node = start_node(remote, tmp_path / "logs", components)
    log = open(tmp_path / "backfiller.log", "wb")
    extra = ("--once", "--max-rate", "1", "--retry-attempts", "8")  # room for a slow restart when busy
    process = subprocess.Popen(backfill_args(local, node, extra=extra), stdout=log, stderr=log)
    try:
        wait_until(lambda: len(visible(local)) >= 8, 30, message="first segments copied")
        node.process.send_signal(signal.SIGKILL)
        node.process.wait()
        restarted = start_node(remote, tmp_path / "logs", components, port=node.port)
        assert restarted.port == node.port
        assert process.wait(timeout=90) == 0, (tmp_path / "backfiller.log").read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "failed" in (tmp_path / "backfiller.log").read_text()  # the kill was noticed mid-pass
    assert visible(local) == visible(remote) and len(visible(local)) == 40
    assert temp_files(local) == []


def test_corrupted_file_on_a_peer_is_never_stored_and_once_fails(tmp_path, components):
    corrupt, other, local = tmp_path / "corrupt", tmp_path / "other", tmp_path / "local"
    paths = [write_segment(corrupt, STORE_START + timedelta(seconds=2 * i)) for i in range(20)]
    for i in range(20, 30):
        write_segment(other, STORE_START + timedelta(seconds=2 * i))
    bad = paths[7]
    bad.write_bytes(b"not what the name promises")
    nodes = [start_node(base, tmp_path / "logs", components) for base in (corrupt, other)]
    done = run_backfill_once(local, *nodes)
    assert done.returncode != 0
    expected = {k: v for k, v in {**visible(corrupt), **visible(other)}.items() if not k.endswith(bad.name)}
    assert visible(local) == expected and len(expected) == 29
    assert not any(f.endswith(bad.name) for f in all_files(local))
    assert temp_files(local) == []


def test_newest_hour_completes_before_older_hours_start_under_a_bandwidth_cap(tmp_path, components):
    remote, local = tmp_path / "remote", tmp_path / "local"
    for hour in range(3):
        for index in range(8):
            start = STORE_START + timedelta(hours=hour, seconds=2 * index)
            write_segment(remote, start, content=os.urandom(40_000))
    node = start_node(remote, tmp_path / "logs", components)
    done = run_backfill_once(local, node, extra=("--max-rate", "0.5", "--concurrency", "4"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert visible(local) == visible(remote)
    hour_dirs = sorted((local / "chan" / "source").iterdir(), reverse=True)
    mtimes = [[os.stat(f).st_mtime_ns for f in d.iterdir()] for d in hour_dirs]
    for newer, older in itertools.pairwise(mtimes):
        assert max(newer) <= min(older), "an older hour started before a newer one completed"


def test_continuous_mode_exposes_metrics_and_stops_gracefully(tmp_path, components):
    remote, local = tmp_path / "remote", tmp_path / "local"
    for index in range(5):
        write_segment(remote, STORE_START + timedelta(seconds=2 * index))
    node = start_node(remote, tmp_path / "logs", components)
    port = free_port()
    backfiller = start_component(
        ["backfiller", "--base-dir", str(local), "--nodes", node.url, "--metrics-port", str(port)],
        tmp_path / "logs",
        port=port,
    )
    components.append(backfiller)
    wait_until(lambda: len(visible(local)) == 5, 30, message="segments copied")
    peer = f'peer="127.0.0.1:{node.port}"'

    def metrics() -> str:
        with urllib.request.urlopen(backfiller.url + "/metrics", timeout=5) as response:
            return response.read().decode()

    wait_until(lambda: f"wubloader_backfill_last_success_timestamp_seconds{{{peer}}}" in metrics(), 30)
    text = metrics()
    assert f"wubloader_backfill_segments_total{{{peer}}} 5.0" in text
    assert f"wubloader_backfill_backlog_segments{{{peer}}} 0.0" in text
    assert backfiller.stop(signal.SIGTERM) == 0
    assert visible(local) == visible(remote)
