"""store/hour_scan.py: the bulk path and the exact path agree on every kind of hour directory."""

from datetime import datetime, timedelta

import pytest

from tests.harness.store_builder import write_segment
from wubloader.store import SegmentType, create_tombstone
from wubloader.store.hour_scan import EMPTY_SCAN, HourScanCache, _scan_exact, scan_hour, union

HOUR = datetime(2024, 5, 1, 10)
H = "A" * 43


def build(tmp_path, extra_names=()):
    paths = [write_segment(tmp_path, HOUR + timedelta(seconds=2 * i)) for i in range(20) if i != 7]
    paths.append(write_segment(tmp_path, HOUR + timedelta(seconds=40), type=SegmentType.SUSPECT))
    paths.append(write_segment(tmp_path, HOUR + timedelta(seconds=3599), 3.0))
    hour_dir = paths[0].parent
    for name in extra_names:
        (hour_dir / name).write_bytes(b"")
    return hour_dir, paths


CASES = {
    "plain": (),
    "temp": ("00:50.000000-2.0-temp-0b5c7a36-5f7e-4b7e-9d43-2a3c7f1f0e11.ts",),
    "partial": (f"00:46.000000-2.0-partial-{H}.ts", f"00:48.5-1.5-full-{H}.ts"),
    "hidden": (f".00:52.000000-2.0-full-{H}.ts", ".note"),
    "bad names": ("00:61.000000-2.0-full-x.ts", "zz.ts", "00:54.000000-1e1-full-x.ts", "readme.txt"),
    "odd hash": ("00:56.000000-2.0-full-a.b.ts",),
    "unicode digits": ("٠٠:58.000000-2.0-full-x.ts",),
}


@pytest.mark.parametrize("case", CASES)
def test_bulk_and_exact_scans_agree(tmp_path, case):
    hour_dir, _ = build(tmp_path, CASES[case])
    names = sorted(p.name for p in hour_dir.iterdir())
    assert scan_hour(hour_dir) == _scan_exact(hour_dir, names)


def test_tombstones_hide_and_counts_are_exact(tmp_path):
    hour_dir, paths = build(tmp_path)
    create_tombstone(paths[3])
    scan = scan_hour(hour_dir)
    assert (scan.full, scan.suspect, scan.partial, scan.bad) == (19, 1, 0, 0)
    assert scan.covered == ((0.0, 6.0), (8.0, 14.0), (16.0, 42.0), (3599.0, 3602.0))
    assert scan.covered_full == ((0.0, 6.0), (8.0, 14.0), (16.0, 40.0), (3599.0, 3602.0))
    assert scan.overlaps == 0


def test_union_bridges_small_gaps_and_counts_overlaps():
    assert union([0.0, 2.005, 4.0], [2.0, 4.0, 6.0]) == (((0.0, 6.0),), 0)
    assert union([0.0, 2.0, 3.0, 10.0], [2.0, 4.0, 5.0, 12.0]) == (((0.0, 5.0), (10.0, 12.0)), 1)
    assert union([], []) == ((), 0)


def test_cache_reuses_settled_hours_and_evicts(tmp_path):
    clock = [0.0]
    cache = HourScanCache(max_hours=1, now=lambda: clock[0])
    a, _ = build(tmp_path / "a")
    b, _ = build(tmp_path / "b")
    assert cache.scan(a) == scan_hour(a) and len(cache) == 0  # fresh directories are not trusted yet
    clock[0] = 1e12
    first = cache.scan(a)
    assert cache.scan(a) is first and len(cache) == 1
    cache.scan(b)
    assert len(cache) == 1 and cache.scan(a) is not first  # a was evicted
    assert cache.scan(tmp_path / "missing") is EMPTY_SCAN
