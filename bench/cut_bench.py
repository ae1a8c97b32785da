"""Cut speed over a 1 h store (a 60 s clip hard-linked 60 times): rough/fast/smart/full vs `cat` of the same files.

    .venv/bin/python bench/cut_bench.py [--quick]

Prints seconds, x realtime, time to first byte, and ratios to the copy floor measured in the same run.
Every case runs `--repeat` times, interleaved round by round (so a burst of load from other processes
hits all cases alike); the median is reported, with the minimum and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.proc import own_cpu
from bench.results import record
from tests.conftest import STORE_START
from tests.harness.media import encode_clip
from tests.harness.store_builder import build_store

from wubloader.media.cut_engine import prepare_cut
from wubloader.media.cut_plan import CutRange, CutType, Transition
from wubloader.store import SegmentIndex


async def run_cut(index, cut_type, ranges, transitions):
    chains = [index.best_segments("chan", "source", r.start, r.end) for r in ranges]
    cpu_before = own_cpu()
    began = time.perf_counter()
    stream = await prepare_cut(cut_type, ranges, transitions, chains, allow_holes=True)
    first = None
    size = 0
    async for chunk in stream:
        if first is None:
            first = time.perf_counter() - began
        size += len(chunk)
    return time.perf_counter() - began, first or 0.0, own_cpu() - cpu_before


def cat_floor(index, ranges):
    began = time.perf_counter()
    size = 0
    for r in ranges:
        for seg in index.best_segments("chan", "source", r.start, r.end):
            if seg is not None:
                size += len(Path(seg.path).read_bytes())
    return time.perf_counter() - began, size


def span(a: float, b: float) -> CutRange:
    return CutRange(start=STORE_START + timedelta(seconds=a), end=STORE_START + timedelta(seconds=b))


async def main(quick: bool, repeat: int, only: str) -> None:
    with tempfile.TemporaryDirectory(prefix="cutbench-") as tmp:
        await bench(Path(tmp), quick, repeat, only)


async def bench(work: Path, quick: bool, repeat: int, only: str) -> None:
    clip = encode_clip(work / "clip", 60 if not quick else 20)
    hours = 1
    count = (3600 if not quick else 240) // 2
    build_store(work / "store", STORE_START, count, contents=clip.segments)
    index = SegmentIndex(work / "store")
    long_s = 600.0 if not quick else 60.0
    all_s = count * 2.0 - 10
    cases = [
        ("rough", CutType.ROUGH, [span(61.3, 61.3 + long_s)], []),
        ("fast", CutType.FAST, [span(61.3, 61.3 + long_s)], []),
        ("smart", CutType.SMART, [span(61.3, 61.3 + long_s)], []),
        ("rough", CutType.ROUGH, [span(3.3, all_s)], []),
        ("fast", CutType.FAST, [span(3.3, all_s)], []),
        ("smart", CutType.SMART, [span(3.3, all_s)], []),
        ("full", CutType.FULL, [span(61.3, 121.3 if not quick else 71.3)], []),
        (
            "smart 2 ranges, hard",
            CutType.SMART,
            [
                span(61.3, 361.3 if not quick else 91.3),
                span(1201.7 if not quick else 121.7, 1501.7 if not quick else 151.7),
            ],
            [None],
        ),
        (
            "smart 2 ranges, 1 s fade",
            CutType.SMART,
            [
                span(61.3, 361.3 if not quick else 91.3),
                span(1201.7 if not quick else 121.7, 1501.7 if not quick else 151.7),
            ],
            [Transition(name="fade", duration=1.0)],
        ),
    ]
    print(
        f"store: {count} segments ({hours if not quick else count * 2 / 3600:.2f} h), clip {clip.directory}"
    )
    if only:
        cases = [case for case in cases if case[0].startswith(tuple(only.split(",")))]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    runs: dict[int, list[tuple[float, float, float]]] = {k: [] for k in range(len(cases))}
    floors: dict[int, list[float]] = {k: [] for k in range(len(cases))}
    for _ in range(repeat):
        for k, (_name, cut_type, ranges, transitions) in enumerate(cases):
            floors[k].append(cat_floor(index, ranges)[0])
            runs[k].append(await run_cut(index, cut_type, ranges, transitions))
    print(
        f"{'cut':28} {'output s':>9} {'median s':>9} {'min s':>7} {'× realtime':>11} {'first byte s':>13}"
        f" {'cpu s':>7} {'cat s':>7} {'÷ cat':>7}"
    )
    results = {}
    for k, (name, _cut_type, ranges, transitions) in enumerate(cases):
        wall = statistics.median(run[0] for run in runs[k])
        first = statistics.median(run[1] for run in runs[k])
        floor = statistics.median(floors[k])
        length = sum(r.seconds for r in ranges) - sum(t.duration for t in transitions if t)
        cpu = statistics.median(run[2] for run in runs[k])
        results[(name, round(length))] = (wall, cpu)
        print(
            f"{name:28} {length:9.1f} {wall:9.3f} {min(run[0] for run in runs[k]):7.3f} {length / wall:11.0f}"
            f" {first:13.3f} {cpu:7.3f} {floor:7.3f} {wall / floor:7.1f}"
        )
        rough_whole = name == "rough" and len(ranges) == 1 and ranges[0].seconds > long_s
        record(f"{name} cut, {length:.0f} s (engine)", wall, floor, unit="s",
               target="<= 1.5x cat" if rough_whole else "", met=wall / floor <= 1.5 if rough_whole else None)  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    whole = round(all_s - 3.3)
    if ("rough", whole) in results and ("smart", whole) in results:
        smart, rough = results[("smart", whole)], results[("rough", whole)]
        cpu_ratio = f"{smart[1] / rough[1]:.2f}" if rough[1] > 0 else "n/a (no CPU time measured)"
        print(f"smart whole store ÷ rough whole store: {smart[0] / rough[0]:.2f} wall, {cpu_ratio} cpu")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="8 min store, 1 min cuts (smoke test)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case; the median is reported")
    parser.add_argument("--only", default="", help="comma-separated name prefixes of the cases to run")
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.repeat if not args.quick else 1, args.only))
