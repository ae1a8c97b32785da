"""Smoke test: bench/backfill_bench.py runs end to end in --quick mode and prints its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "backfill_bench.py"


def test_backfill_bench_quick(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for label in (
        "reference raw HTTP copy to /dev/null",
        "backfill (fetch",
        "ratio backfill/reference",
        "no-op pass",
    ):
        assert label in done.stdout
    assert list(tmp_path.iterdir()) == []  # the work directory is removed
