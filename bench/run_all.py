"""Every benchmark in bench/, one after another, and one table of their figures.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME,...] [--json FILE]

Runs each `bench/*_bench.py` (and the restreamer's `--load` scenario) as its own process, with
`--quick` if asked; each records its figures through `bench/results.py`. Prints one row per figure:
measure, ours, the reference measured in the same run, their ratio, the target and whether it is met,
with the 1-minute load average before each bench (the machine is shared: read ratios, not absolutes).
A bench that fails is listed as FAILED and the others still run; the exit status is then 1. The
benches use the test suite's tools (`bin/setup --test`): anything missing is named before any bench
runs (exit status 2).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench.results import RESULTS_ENV  # noqa: E402

# Extra runs beside the plain `NAME_bench.py` ones: (name, script, arguments).
EXTRA_RUNS = [("restreamer_load", "restreamer_bench.py", ["--load"])]
TIMEOUT_SECONDS = 3600
# What `--quick` adds for some benches: the restreamer's rough cut and segment throughput take the
# median of three rounds (one 1 s round of wrk is mostly noise on a shared machine; its smoke test
# keeps one).
QUICK_EXTRA = {"restreamer": ["--rounds", "3"]}

# What benches need beyond the runtime install (every bench builds its stores with the test suite's
# harness, which imports pytest); `bin/setup --test` installs all of it.
NEEDS = {"restreamer": ("nginx", "wrk", "curl"), "editor": ("playwright", "chromium")}
PYTHON_MODULES = frozenset({"pytest", "playwright"})


def missing_tools(names: list[str]) -> list[str]:
    """The Python modules and programs that the benches `names` need and this machine lacks."""
    wanted = {"pytest"}.union(*(NEEDS.get(name, ()) for name in names))
    return sorted(tool for tool in wanted if not _found(tool))


def _found(tool: str) -> bool:
    if tool in PYTHON_MODULES:
        return importlib.util.find_spec(tool) is not None
    return shutil.which(tool) is not None or Path("/usr/sbin", tool).exists()  # nginx is off a user's PATH


def runs() -> list[tuple[str, str, list[str]]]:
    """(name, script, arguments) of every bench, in a fixed order."""
    plain = [(p.stem.removesuffix("_bench"), p.name, []) for p in sorted(BENCH.glob("*_bench.py"))]
    return plain + [(n, s, list(a)) for n, s, a in EXTRA_RUNS]


def run_one(name: str, script: str, arguments: list[str], quick: bool, log: Path) -> tuple[list[dict], str]:
    """Run one bench; its recorded rows and a status ('ok', 'FAILED (exit N)', 'TIMEOUT')."""
    with tempfile.NamedTemporaryFile(prefix="bench-results-", suffix=".jsonl", delete=False) as out:
        results = Path(out.name)
    extra = ["--quick", *QUICK_EXTRA.get(name, [])] if quick else []
    command = [sys.executable, str(BENCH / script), *arguments, *extra]
    env = {**os.environ, RESULTS_ENV: str(results)}
    try:
        with log.open("w") as output:
            code = subprocess.run(
                command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=TIMEOUT_SECONDS
            ).returncode
        status = "ok" if code == 0 else f"FAILED (exit {code})"
    except subprocess.TimeoutExpired:
        status = "TIMEOUT"
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    results.unlink()
    return rows, status


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def ratio_text(ratio: float | None) -> str:
    """Three significant digits: two decimals showed a 0.8966 against a 0.9 target as "0.90x NOT met"."""
    if ratio is None:
        return "-"
    return f"{ratio:.3g}x" if ratio < 100 else f"{ratio:.0f}x"


def verdict(met: bool | None) -> str:
    return "-" if met is None else ("met" if met else "NOT met")


def print_table(rows: list[dict]) -> None:
    header = ("bench", "measure", "ours", "reference", "unit", "ratio", "target", "met", "load")
    cells = [header] + [
        (
            r["bench"], r["measure"], fmt(r["ours"]), fmt(r["reference"]), r["unit"],
            ratio_text(r["ratio"]), r["target"] or "-", verdict(r["met"]),
            f"{r['load']:.1f}",
        )
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(header))]
    for c in cells:
        print("  ".join(str(v).ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="every bench in its quick (smoke) mode")
    parser.add_argument("--only", default="", help="comma-separated bench names (e.g. store,restreamer)")
    parser.add_argument("--json", type=Path, help="also write every row to this file as JSON")
    parser.add_argument("--logs", type=Path, help="keep each bench's output here (default: a temp dir)")
    args = parser.parse_args()
    wanted = [n for n in args.only.split(",") if n]
    known = [name for name, _, _ in runs()]
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; known: {', '.join(known)}")
    selected = [run for run in runs() if not wanted or run[0] in wanted]
    missing = missing_tools([name for name, _, _ in selected])
    if missing:
        print(f"run_all: {', '.join(missing)} missing: the benches use the test suite's tools; "
              "run bin/setup --test first", file=sys.stderr)  # fmt: skip
        return 2
    logs = args.logs or Path(tempfile.mkdtemp(prefix="bench-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    table: list[dict] = []
    failed = False
    for name, script, arguments in selected:
        load = os.getloadavg()[0]
        began = time.monotonic()
        print(f"running {name} (load average {load:.1f}) ...", flush=True)
        rows, status = run_one(name, script, arguments, args.quick, logs / f"{name}.log")
        print(f"  {status} in {time.monotonic() - began:.0f} s, output in {logs / f'{name}.log'}", flush=True)
        if status != "ok":
            failed = True
            rows.append({"measure": status, "ours": None, "reference": None, "unit": "", "ratio": None,
                         "target": "", "met": False})  # fmt: skip
        table.extend({**row, "bench": name, "load": load} for row in rows)
    print(f"\nmachine: {os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f}")
    print_table(table)
    if args.json:
        args.json.write_text(json.dumps(table, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
