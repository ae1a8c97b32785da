"""The benchmark runs end to end in its quick mode (nginx + wrk + a real restreamer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "restreamer_bench.py"


def test_bench_quick_mode_runs(tmp_path):
    """It prints its figures and records them for run_all, the servers' CPU per request included."""
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "WUBLOADER_BENCH_RESULTS": str(results)}
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hour listing" in result.stdout
    assert result.stdout.count("ratio") == 2
    rows = {row["measure"]: row for row in map(json.loads, results.read_text().splitlines())}
    for connections in (1, 8):
        throughput = rows[f"/segments {connections} conn"]
        assert throughput["unit"] == "req/s" and throughput["ours"] > 0 and throughput["reference"] > 0
        cpu = rows[f"/segments {connections} conn, server CPU per 10k requests"]
        assert cpu["unit"] == "s" and cpu["ours"] > 0 and cpu["reference"] > 0
    for measure in (
        "(HTTP, zero-copy client)",
        "(HTTP, curl: one more copy)",
        "vs nginx sending its bytes as one file",
    ):
        rough = rows[f"rough cut 1 h {measure}"]
        assert rough["unit"] == "ms" and rough["ours"] > 0 and rough["reference"] > 0


@pytest.mark.ffmpeg
@pytest.mark.timeout(300)
def test_bench_load_quick_mode_runs():
    """The load mode (a node archiving while cuts and players run) prints its figures from one run."""
    result = subprocess.run(
        [sys.executable, str(BENCH), "--load", "--quick"],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ratio") == 2
    assert "holes: 0" in result.stdout
