"""The thrimshim benchmark runs end to end in its quick mode and prints its three ratio rows."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_thrimshim_bench_quick():
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "thrimshim_bench.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=280,
        check=True,
    ).stdout
    rows = [line.split() for line in out.splitlines() if line.strip().endswith("x")]
    assert [r[0] for r in rows] == ["list", "poll", "post"]
    assert all(float(r[-1].rstrip("x")) > 0 for r in rows)
