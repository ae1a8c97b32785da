"""The cutter benchmark runs end to end in its quick mode and prints its ratios."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.ffmpeg
@pytest.mark.timeout(600)
def test_cutter_bench_quick():
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cutter_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=550, check=True,
    ).stdout  # fmt: skip
    assert "edit -> claim (NOTIFY)" in out and "polling interval 5.0 s" in out
    ratio = next(line for line in out.splitlines() if line.startswith("published / engine"))
    assert float(ratio.split()[-1].rstrip("x")) > 0
