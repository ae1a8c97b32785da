"""Operator tools against references measured in the same run.

* `verify` re-hashing throughput vs `sha256sum` over the same segment files (page cache warm for both).
* A coverage pass over a 7-day store (302,400 segments) vs a bare listing (`os.listdir` + sort) of the
  same hour directories: cold (a new checker: every hour scanned) and warm (the running service's case:
  unchanged past hours come from the cache).

Times are CPU seconds (user + system, of this process or of the `sha256sum` child), measured in turns
(reference, subject, reference, …) and reduced to medians, so a busy shared machine skews both alike.

    .venv/bin/python bench/ops_bench.py [--quick] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.proc import own_cpu
from bench.results import record
from tests.harness.store_builder import build_store, write_segment

from wubloader.coverage.checker import CoverageChecker
from wubloader.maintenance.scope import TimeRange
from wubloader.maintenance.verify import segments_to_verify, verify
from wubloader.store import hour_name

if TYPE_CHECKING:
    from collections.abc import Callable

START = datetime(2024, 5, 1, 0, 0, 0)
SEGMENT = 2.0


def timed_turns(fns: list[Callable[[], object]], repeat: int) -> list[float]:
    """Median CPU seconds of each function, run in turns `repeat` times."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, bucket in zip(fns, samples, strict=True):
            t0 = own_cpu()
            fn()
            bucket.append(own_cpu() - t0)
    return [statistics.median(bucket) for bucket in samples]


def bench_verify(root: Path, files: int, repeat: int) -> tuple[float, float]:
    """(verify MB/s, sha256sum MB/s) over `files` 1 MB segments."""
    base = root / "verify-store"
    if not base.exists():
        for i in range(files):
            write_segment(base, START + timedelta(seconds=2 * i), content=os.urandom(1_000_000))
    paths = [str(p) for p in sorted(base.rglob("*.ts"))]
    size = sum(os.path.getsize(p) for p in paths) / 1e6

    def sha256sum() -> None:
        subprocess.run(["sha256sum", *paths], check=True, stdout=subprocess.DEVNULL)

    def run_verify() -> None:
        result = verify(base, segments_to_verify(base, None, TimeRange()))
        assert result.files == len(paths) and not result.corrupt

    sha256sum()  # warm the page cache for both
    ours, reference = timed_turns([run_verify, sha256sum], repeat)
    return size / ours, size / reference


def list_floor(base: Path, hours: int) -> None:
    for h in range(hours):
        try:
            sorted(os.listdir(base / "chan" / "source" / hour_name(START + timedelta(hours=h))))
        except FileNotFoundError:
            pass


def bench_coverage(base: Path, hours: int, repeat: int) -> tuple[float, float, float]:
    """(floor, cold pass, warm pass) seconds over `hours` hours of 2 s segments."""
    count = int(hours * 3600 / SEGMENT)
    if not (base / "chan").exists():
        t0 = time.perf_counter()
        build_store(base, START, count, duration=SEGMENT, contents=[b"x" * 188 * k for k in range(1, 9)])
        print(f"built {count} segments in {time.perf_counter() - t0:.1f}s", flush=True)
        time.sleep(2.1)  # let directory mtimes settle so the cache may trust them
    checker = CoverageChecker(base, ("chan",), ("source",))
    checker.check("chan", "source")
    floor, cold, warm = timed_turns(
        [
            lambda: list_floor(base, hours),
            lambda: CoverageChecker(base, ("chan",), ("source",)).check("chan", "source"),
            lambda: checker.check("chan", "source"),
        ],
        repeat,
    )
    return floor, cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="24 h store, 20 MB to verify, fewer repeats")
    parser.add_argument("--dir", type=Path, help="reuse/build the stores here (default: a temp dir)")
    args = parser.parse_args()
    hours, files, repeat = (24, 20, 3) if args.quick else (168, 200, 5)
    with tempfile.TemporaryDirectory(prefix="ops-bench-") as tmp:
        root = args.dir or Path(tmp)
        verify_rate, sha_rate = bench_verify(root, files, repeat)
        floor, cold, warm = bench_coverage(root / "coverage-store", hours, repeat)
    print(
        f"verify {verify_rate:8.1f} MB/s  vs sha256sum {sha_rate:8.1f} MB/s (CPU)  {verify_rate / sha_rate:.2f}x"
    )
    print(f"coverage over {hours} h ({int(hours * 1800)} segments), CPU ms:")
    print(f"  bare listing {floor * 1e3:8.1f}")
    print(f"  cold pass    {cold * 1e3:8.1f}   {cold / floor:.2f}x the listing")
    print(f"  warm pass    {warm * 1e3:8.1f}   {warm / floor:.2f}x the listing")
    record("verify vs sha256sum", verify_rate, sha_rate, unit="MB/s")
    record(f"coverage cold pass {hours} h", cold * 1e3, floor * 1e3, unit="CPU ms")
    record(f"coverage warm pass {hours} h", warm * 1e3, floor * 1e3, unit="CPU ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
