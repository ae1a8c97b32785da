"""The store benchmark runs end to end in its quick mode and prints its ratio table."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_store_bench_quick(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "store_bench.py"), "--quick", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    rows = [line.split() for line in out.splitlines() if line.split()[1:2] == ["h"]]
    assert [r[0] for r in rows] == ["1", "24"]
    assert all(float(r[6].rstrip("x")) > 0 and float(r[7]) > 0 for r in rows)  # warm/floor, pieces ms
