"""Summarise one hour directory for coverage: segment counts by type and the time it covers, fast.

Coverage reads every hour of a store each pass, so the common case (only plain segment names) is parsed
in bulk by one regular expression over the joined listing, with no per-name Python work; anything
unusual (tombstones, hidden or odd names) takes the exact path through `parse_segment_name`.
"""

from __future__ import annotations

import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from itertools import repeat
from operator import add, itemgetter, sub
from typing import TYPE_CHECKING

from wubloader.store.errors import BadSegmentName
from wubloader.store.listing import split_hour_entries
from wubloader.store.naming import SegmentType, parse_hour, parse_segment_name

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

# Gaps and overlaps up to this are treated as contiguous (as best-segment selection does).
TOLERANCE = 0.010
Interval = tuple[float, float]
# One plain segment name per line, as (TIME, "DURATION-TYPE"); what it accepts, parse_segment_name
# accepts identically. Two groups, not four: fewer objects per name on the hot path.
_PLAIN_NAME = re.compile(
    r"^([0-5][0-9]:[0-5][0-9]\.[0-9]{1,6})-([0-9]+(?:\.[0-9]+)?-(?:full|suspect|partial|temp))-[A-Za-z0-9_-]+\.ts$",
    re.MULTILINE,
)
_MINUTES = itemgetter(slice(0, 2))
_SECONDS = itemgetter(slice(3, None))
_MINUTE_SECONDS = {f"{m:02d}": 60.0 * m for m in range(60)}


@dataclass(frozen=True, slots=True, kw_only=True)
class HourScan:
    """Counts of visible segments by type (`bad` = unparseable), and what they cover.

    Intervals are seconds from the hour's start (a segment may run past 3600); `covered` is the union of
    every non-temp segment, `covered_full` of the full ones, gaps up to TOLERANCE bridged. `overlaps`
    counts segments starting more than TOLERANCE before the end of those before them (extra versions too).
    """

    full: int = 0
    suspect: int = 0
    partial: int = 0
    bad: int = 0
    covered: tuple[Interval, ...] = ()
    covered_full: tuple[Interval, ...] = ()
    overlaps: int = 0

    @property
    def segments(self) -> int:
        return self.full + self.suspect + self.partial


EMPTY_SCAN = HourScan()


def scan_hour(hour_dir: Path) -> HourScan:
    """Scan one hour directory (EMPTY_SCAN if it does not exist). Its name must be an hour name."""
    try:
        names = os.listdir(hour_dir)
    except (FileNotFoundError, NotADirectoryError):
        return EMPTY_SCAN
    names.sort()
    text = "\n".join(names)
    plain = (
        text.count("\n") == len(names) - 1
        and ".tombstone" not in text
        and not text.startswith(".")
        and "\n." not in text
    )
    if plain:
        found = _PLAIN_NAME.findall(text)
        if len(found) == (text + "\n").count(".ts\n"):
            return _scan_plain(found)
    return _scan_exact(hour_dir, names)


def _scan_plain(found: list[tuple[str, str]]) -> HourScan:
    if not found:
        return EMPTY_SCAN
    times, kinds = zip(*found, strict=True)
    starts = list(
        map(add, map(_MINUTE_SECONDS.__getitem__, map(_MINUTES, times)), map(float, map(_SECONDS, times)))
    )
    if kinds.count(kinds[0]) == len(kinds):  # the usual hour: one length, one type
        duration, kind = kinds[0].split("-")
        if kind == "temp":
            return EMPTY_SCAN
        ends = list(map(add, starts, repeat(float(duration))))
        return summarize(starts, ends, (kind,) * len(starts), bad=0)
    pairs = [k.split("-") for k in kinds]
    ends = list(map(add, starts, (float(d) for d, _ in pairs)))
    types = [t for _, t in pairs]
    if "temp" in types:
        kept = [i for i, t in enumerate(types) if t != "temp"]
        starts, ends, types = [starts[i] for i in kept], [ends[i] for i in kept], [types[i] for i in kept]
    return summarize(starts, ends, types, bad=0)


def _scan_exact(hour_dir: Path, names: list[str]) -> HourScan:
    visible, _ = split_hour_entries(names)
    hour_start = parse_hour(hour_dir.name)
    rows: list[tuple[float, float, str]] = []
    bad = 0
    for name in visible:
        try:
            seg = parse_segment_name(hour_start, name)
        except BadSegmentName:
            bad += 1
            continue
        if seg.type is not SegmentType.TEMP:
            start = (seg.start - hour_start).total_seconds()
            rows.append((start, start + seg.duration.total_seconds(), seg.type.value))
    rows.sort()
    return summarize([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], bad=bad)


def summarize(starts: list[float], ends: list[float], types: Sequence[str], *, bad: int) -> HourScan:
    """Counts and unions of segments sorted by start (`types` are SegmentType values)."""
    covered, overlaps = union(starts, ends)
    full_count = types.count("full")
    if full_count == len(types):
        covered_full = covered
    else:
        full = [i for i, t in enumerate(types) if t == "full"]
        covered_full, _ = union([starts[i] for i in full], [ends[i] for i in full])
    return HourScan(
        full=full_count,
        suspect=types.count("suspect"),
        partial=types.count("partial"),
        bad=bad,
        covered=covered,
        covered_full=covered_full,
        overlaps=overlaps,
    )


def union(starts: Sequence[float], ends: Sequence[float]) -> tuple[tuple[Interval, ...], int]:
    """Merge intervals sorted by start (gaps ≤ TOLERANCE bridged); also count overlapping ones."""
    if not starts:
        return (), 0
    gaps = list(map(sub, starts[1:], ends[:-1]))
    if not gaps or (max(gaps) <= TOLERANCE and min(gaps) >= -TOLERANCE):
        return ((starts[0], max(ends)),), 0  # the common case: one contiguous run
    merged: list[Interval] = []
    run_start, run_end = starts[0], ends[0]
    overlaps = 0
    for start, end in zip(starts[1:], ends[1:], strict=True):
        if start > run_end + TOLERANCE:
            merged.append((run_start, run_end))
            run_start, run_end = start, end
            continue
        if start < run_end - TOLERANCE:
            overlaps += 1
        run_end = max(run_end, end)
    merged.append((run_start, run_end))
    return tuple(merged), overlaps


class HourScanCache:
    """Scans of hour directories, reused while a directory's mtime is unchanged (LRU, `max_hours`).

    A directory modified within `settle_seconds` is scanned again every time, because a second change
    within the same clock tick would not move its mtime. Past hours are therefore read once per process.
    """

    def __init__(
        self, *, max_hours: int = 4096, settle_seconds: float = 2.0, now: Callable[[], float] = time.time
    ) -> None:
        self.max_hours = max_hours
        self.settle_seconds = settle_seconds
        self._now = now
        self._cache: OrderedDict[Path, tuple[int, HourScan]] = OrderedDict()

    def scan(self, hour_dir: Path) -> HourScan:
        """`scan_hour(hour_dir)`, from the cache when the directory has not changed."""
        try:
            mtime_ns = os.stat(hour_dir).st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            return EMPTY_SCAN
        cached = self._cache.get(hour_dir)
        if cached is not None and cached[0] == mtime_ns:
            self._cache.move_to_end(hour_dir)
            return cached[1]
        result = scan_hour(hour_dir)
        if self._now() - mtime_ns / 1e9 > self.settle_seconds:
            self._cache[hour_dir] = (mtime_ns, result)
            self._cache.move_to_end(hour_dir)
            while len(self._cache) > self.max_hours:
                self._cache.popitem(last=False)
        else:
            self._cache.pop(hour_dir, None)
        return result

    def __len__(self) -> int:
        return len(self._cache)
