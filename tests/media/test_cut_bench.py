"""The cut benchmark runs end to end in its --quick mode (a smoke test, no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_cut_bench_quick_runs():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cut_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "smart 2 ranges, 1 s fade" in result.stdout
