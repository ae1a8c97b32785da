"""The node memory benchmark runs end to end (a node --demo on an hour of archive) and prints its RSS."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

# Slow (~30 s under load): encodes a clip, starts a whole demo node with its ffmpeg stream.
pytestmark = [pytest.mark.slow, pytest.mark.ffmpeg]

ROOT = Path(__file__).resolve().parents[2]


def test_node_memory_bench_short_run():
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "node_memory_bench.py"), "--seconds", "1"],
        capture_output=True, text=True, timeout=280, check=True,
    ).stdout  # fmt: skip
    figures = dict(
        re.findall(r"^  (RSS at start|RSS after the hour's playlists|peak RSS)\s+([0-9.]+) MiB", out, re.M)
    )
    assert len(figures) == 3
    start, after, peak = (
        float(figures[k]) for k in ("RSS at start", "RSS after the hour's playlists", "peak RSS")
    )
    assert 0 < start <= peak and 0 < after <= peak
    served = int(re.search(r"; ([0-9]+) B served", out).group(1))
    assert served > 2 * 1800 * 100  # the hour's 1,800 entries, twice
