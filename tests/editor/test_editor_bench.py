"""The editor benchmark runs end to end in its --quick mode (a smoke test, no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_editor_bench_quick_runs():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "editor_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=580, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "edit page interactive" in result.stdout
    assert "same data fetched without rendering" in result.stdout
    assert "goal: edit page interactive <= 2000 ms" in result.stdout
