"""Machine-readable results for `bench/run_all.py`: one JSON line per measure, beside the printed table.

A bench calls `record(...)` for each figure it prints; nothing is written unless `WUBLOADER_BENCH_RESULTS`
names a file (run_all sets it), so running a bench by hand behaves as before.
"""

from __future__ import annotations

import json
import os

RESULTS_ENV = "WUBLOADER_BENCH_RESULTS"


def record(
    measure: str,
    ours: float,
    reference: float | None = None,
    *,
    unit: str = "",
    ratio: float | None = None,
    target: str = "",
    met: bool | None = None,
) -> None:
    """Append one result. `ratio` defaults to ours / reference; `target` is text such as '<= 3x'."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    if ratio is None and reference:
        ratio = ours / reference
    row = {
        "measure": measure,
        "ours": ours,
        "reference": reference,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "met": met,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")
