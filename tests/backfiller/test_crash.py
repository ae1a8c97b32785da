"""Crash safety of the backfiller's write scheme: SIGKILL the real process at random points.

A real `wubloader restreamer` serves a small store; `wubloader backfiller --once` copies it and is
SIGKILLed at a random moment, 50 times (each a separate process forked from a pre-imported
interpreter by cli_forker.py, so 50 starts do not cost 50 s of imports) (the seed is printed, and `WUBLOADER_CRASH_SEED` replays a
run). After every kill, every segment a store listing shows must hold exactly the bytes its name's
hash promises; a final clean pass must then converge byte for byte on the peer's store.
"""

from __future__ import annotations

import hashlib
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.backfiller.snapshots import hour_dirs, temp_files, visible
from tests.conftest import STORE_START
from tests.harness.processes import Component, free_port, start_component
from tests.harness.store_builder import write_segment
from wubloader.store.listing import split_hour_entries
from wubloader.store.naming import decode_hash, parse_hour, parse_segment_name

pytestmark = pytest.mark.slow  # 51 backfiller processes and a restreamer: 15-31 s measured under load

RUNS = 50
SEGMENT_BYTES = 120_000


def build_remote(base: Path) -> None:
    """36 random segments over three hours: big enough that copies, fsyncs and renames take time."""
    for hour in range(3):
        for index in range(12):
            start = STORE_START + timedelta(hours=hour, seconds=2 * index)
            write_segment(base, start, content=os.urandom(SEGMENT_BYTES))


def wrong_visible_segments(base: Path) -> list[str]:
    """Visible segments (as a listing shows them) whose bytes do not hash to the hash in their name."""
    wrong = []
    for hour_dir in hour_dirs(base):
        segments, _ = split_hour_entries(os.listdir(hour_dir))
        for name in segments:
            segment = parse_segment_name(parse_hour(hour_dir.name), name)
            if segment.hash is None:  # a `temp` name: never served, never trusted
                continue
            digest = hashlib.sha256((hour_dir / name).read_bytes()).digest()
            if digest != decode_hash(segment.hash):
                wrong.append(f"{hour_dir.name}/{name}")
    return wrong


class Forker:
    """Drives cli_forker.py: backfiller processes forked from one pre-imported interpreter."""

    def __init__(self) -> None:
        script = Path(__file__).with_name("cli_forker.py")
        self.process = subprocess.Popen(
            [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, *words: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(shlex.join(words) + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def kill_at_random_point(forker: Forker, args: list[str], dest: Path, total: int, rng: random.Random) -> int:
    """Start a backfiller; SIGKILL it once a random number of segments is visible, plus a random delay.

    Returns the number of visible segments when it died (it may have finished first).
    """
    target = rng.randint(len(visible(dest)), total)
    extra = rng.uniform(0, 0.05)
    pid = int(forker.ask("run", *args))
    state = "running"
    try:
        deadline = time.monotonic() + 60
        while len(visible(dest)) < target and (state := forker.ask("poll", str(pid))) == "running":
            assert time.monotonic() < deadline, "the backfiller made no progress"
            time.sleep(0.002)
        time.sleep(extra)
    finally:
        if state == "running":  # a finished child was reaped by the poll that saw it exit
            os.kill(pid, signal.SIGKILL)
            forker.ask("wait", str(pid))
    return len(visible(dest))


def make_holes(dest: Path, rng: random.Random) -> None:
    """Remove a random share of the visible segments, so the next run has work to crash in."""
    share = rng.uniform(0.2, 1.0)
    for rel in visible(dest):
        if rng.random() < share:
            (dest / rel).unlink()


@pytest.mark.timeout(600)
def test_sigkill_at_random_points_never_leaves_wrong_bytes_under_a_final_name(tmp_path, components):
    remote, dest = tmp_path / "remote", tmp_path / "dest"
    build_remote(remote)
    expected = visible(remote)
    port = free_port()
    node: Component = start_component(
        ["restreamer", "--base-dir", str(remote), "--port", str(port)], tmp_path / "logs", port=port
    )
    components.append(node)
    args = ["backfiller", "--base-dir", str(dest), "--nodes", node.url]
    seed = int(os.environ.get("WUBLOADER_CRASH_SEED", random.randrange(2**32)))
    print(f"crash test seed: {seed} (replay with WUBLOADER_CRASH_SEED={seed})")
    rng = random.Random(seed)
    partial_kills = 0
    forker = Forker()
    try:
        for run in range(RUNS):
            seen = kill_at_random_point(forker, [*args, "--once"], dest, len(expected), rng)
            wrong = wrong_visible_segments(dest)
            assert wrong == [], f"seed {seed}, run {run}: visible segments with wrong bytes: {wrong}"
            partial_kills += 0 < seen < len(expected)
            make_holes(dest, rng)
    finally:
        forker.close()
    assert partial_kills > 0, f"seed {seed}: no kill landed while segments were being copied"
    # The clean pass is a plain `python -m wubloader` process.
    done = subprocess.run(
        [sys.executable, "-m", "wubloader", *args, "--once"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert visible(dest) == expected
    # What a kill may leave behind: only `temp` files (the stale-temp sweep removes them later).
    leftovers = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()} - set(expected)
    assert leftovers == set(temp_files(dest))
