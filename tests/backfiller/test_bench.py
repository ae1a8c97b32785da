"""Smoke test: bench/backfill_bench.py runs end to end in --quick mode and prints its figures."""

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "backfill_bench.py"


def test_backfill_bench_quick(tmp_path):
    work, results = tmp_path / "work", tmp_path / "results.jsonl"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--dir", str(work)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "WUBLOADER_BENCH_RESULTS": str(results)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for label in (
        "reference raw HTTP copy to /dev/null",
        "backfill (fetch",
        "ratio backfill/reference",
        "no-op pass",
    ):
        assert label in done.stdout
    assert list(work.iterdir()) == []  # the work directory is removed
    # The recorded ratio is the median of the printed per-round ratios, not a ratio of best times.
    rounds = re.search(r"median of the rounds' ratios ([0-9.]+)x \(rounds: ([0-9., ]+);", done.stdout)
    assert rounds, done.stdout
    paired = [float(r) for r in rounds[2].split(", ")]
    assert len(paired) == 2  # --quick: two rounds
    rows = {row["measure"]: row for row in map(json.loads, results.read_text().splitlines())}
    copy = next(row for name, row in rows.items() if name.startswith("backfill vs raw HTTP copy"))
    assert abs(copy["ratio"] - statistics.median(paired)) < 0.01
    assert float(rounds[1]) == round(copy["ratio"], 2)
    # The ceiling adds only the hash to the reference's CPU: below 1, and the printed figure is the row's.
    ceiling = rows["backfill ceiling: the reference + SHA-256 only"]
    assert 0 < ceiling["ratio"] < 1
    assert abs(ceiling["ratio"] - ceiling["reference"] / ceiling["ours"]) < 1e-9
    printed = re.search(r"reaches at most ([0-9.]+)x of it", done.stdout)
    assert printed and float(printed[1]) == round(ceiling["ratio"], 2), done.stdout
