"""The operations benchmark runs end to end in its quick mode and prints its ratios."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_ops_bench_quick(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ops_bench.py"), "--quick", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    ratios = re.findall(r"([0-9.]+)x", out)
    assert len(ratios) == 3 and all(float(r) > 0 for r in ratios), out
    assert "coverage over 24 h (43200 segments)" in out
