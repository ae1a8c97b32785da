"""Best-segment selection over 1 h, 24 h and 7 d ranges, cold and warm, against the filesystem floor.

The floor is a bare `os.scandir` + sort of the same hour directories: the least any listing-based selection
must do. Warm selection does not even list (directory mtimes validate the cache), so it can beat the floor.
`best_segments` (a record per segment: cuts, images) and `best_pieces` (usual hours left as runs:
playlists) are timed apart.

    .venv/bin/python bench/store_bench.py [--quick] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import record
from tests.harness.store_builder import build_store

from wubloader.store import SegmentIndex, hour_name

START = datetime(2024, 5, 1, 0, 0, 0)
SEGMENT = 2.0


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Median wall seconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def scandir_floor(base: Path, hours: int) -> None:
    for h in range(-1, hours):
        path = base / "chan" / "source" / hour_name(START + timedelta(hours=h))
        try:
            with os.scandir(path) as entries:
                sorted(e.name for e in entries)
        except FileNotFoundError:
            pass


def playlist_iteration(chain) -> int:  # type: ignore[no-untyped-def]
    """Roughly what a playlist writer does per item: read times and the name."""
    total = 0
    for seg in chain:
        if seg is not None:
            total += len(seg.name) + seg.duration.microseconds + seg.start.second
    return total


def measure(base: Path, hours: int, repeat: int) -> tuple[str, float, float, float, float, float]:
    end = START + timedelta(hours=hours)
    floor = timed(lambda: scandir_floor(base, hours), repeat)
    cold_s = timed(
        lambda: SegmentIndex(base).best_segments("chan", "source", START, end), max(1, repeat // 3)
    )
    index = SegmentIndex(base)
    index.best_segments("chan", "source", START, end)
    warm_s = timed(lambda: index.best_segments("chan", "source", START, end), repeat)
    iterate_s = timed(lambda: playlist_iteration(index.best_segments("chan", "source", START, end)), repeat)
    pieces_s = timed(lambda: index.best_pieces("chan", "source", START, end), repeat)
    return (f"{hours} h", floor, cold_s, warm_s, iterate_s, pieces_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 h and 24 h only, fewer repeats")
    parser.add_argument("--dir", type=Path, help="reuse/build the store here (default: a temp dir)")
    args = parser.parse_args()
    hours_list = [1, 24] if args.quick else [1, 24, 168]
    repeat = 5 if args.quick else 15
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        base = args.dir or Path(tmp)
        count = int(max(hours_list) * 3600 / SEGMENT)
        if not (base / "chan").exists():
            t0 = time.perf_counter()
            build_store(base, START, count, duration=SEGMENT, contents=[b"x" * 188 * k for k in range(1, 9)])
            print(f"built {count} segments in {time.perf_counter() - t0:.1f}s", flush=True)
        time.sleep(2.1)  # let directory mtimes settle so the cache may trust them
        rows = [measure(base, hours, repeat) for hours in hours_list]
    print(
        f"{'range':>6} {'floor ms':>9} {'cold ms':>9} {'warm ms':>9} {'iter ms':>9} {'warm/floor':>11}"
        f" {'pieces ms':>10}"
    )
    for label, floor, cold_s, warm_s, iterate_s, pieces_s in rows:
        print(
            f"{label:>6} {floor * 1e3:9.2f} {cold_s * 1e3:9.2f} {warm_s * 1e3:9.2f} {iterate_s * 1e3:9.2f}"
            f" {warm_s / floor:10.2f}x {pieces_s * 1e3:10.2f}"
        )
        record(f"selection {label}, new index", cold_s * 1e3, floor * 1e3, unit="ms")
        record(f"selection {label}, warm + iterate", iterate_s * 1e3, floor * 1e3, unit="ms")
        record(f"selection {label}, warm pieces (playlists)", pieces_s * 1e3, floor * 1e3, unit="ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
