"""Smoke test: the downloader benchmark runs end to end in its quick mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]


@pytest.mark.timeout(400)
def test_bench_quick_mode_runs():
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "downloader_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=380, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "CPU per archived hour" in result.stdout
    assert "publish -> stored latency: median" in result.stdout
    assert "3600-segment EVENT playlist" in result.stdout
    assert "previous synchronous path:" in result.stdout and "downloader now:" in result.stdout
