"""A channel/quality's coverage over consecutive hours: totals, holes, and one byte per 2 s pixel.

Pixel `i` stands for [origin + 2i s, origin + 2i s + 2 s). It is FULL if full segments cover all of it,
PARTIAL if only suspect/partial ones complete the cover, MISSING otherwise (gaps ≤ 10 ms do not count).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.store.hour_scan import TOLERANCE, union

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wubloader.store.hour_scan import HourScan, Interval

PIXEL_SECONDS = 2
PIXELS_PER_HOUR = 3600 // PIXEL_SECONDS
MISSING, PARTIAL, FULL = 0, 1, 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """Totals over the hours (in order, one HourScan each, `None` for an hour with no directory)."""

    hours: int
    segments: dict[str, int]
    covered_seconds: float
    covered_full_seconds: float
    holes: int
    hole_seconds: float
    overlaps: int
    pixels: bytes


def absolute(scans: Sequence[HourScan], full: bool) -> list[Interval]:
    """The hours' intervals in seconds from the first hour's start, merged across hour joins."""
    starts: list[float] = []
    ends: list[float] = []
    for index, scan in enumerate(scans):
        offset = index * 3600.0
        for start, end in scan.covered_full if full else scan.covered:
            starts.append(offset + start)
            ends.append(offset + end)
    merged, _ = union(starts, ends)
    return list(merged)


def paint(pixels: bytearray, intervals: Sequence[Interval], value: int) -> None:
    """Set every pixel that lies inside one interval (within TOLERANCE at each end) to `value`."""
    run = bytes([value]) * len(pixels)
    for start, end in intervals:
        first = max(0, math.ceil((start - TOLERANCE) / PIXEL_SECONDS))
        last = min(len(pixels), math.floor((end + TOLERANCE) / PIXEL_SECONDS))
        if last > first:
            pixels[first:last] = run[: last - first]


def build_coverage(scans: Sequence[HourScan]) -> Coverage:
    """Totals and the pixel timeline of consecutive hours."""
    covered = absolute(scans, full=False)
    covered_full = absolute(scans, full=True)
    pixels = bytearray(len(scans) * PIXELS_PER_HOUR)
    paint(pixels, covered, PARTIAL)
    paint(pixels, covered_full, FULL)
    holes = [b[0] - a[1] for a, b in itertools.pairwise(covered)]
    return Coverage(
        hours=len(scans),
        segments={
            "full": sum(s.full for s in scans),
            "suspect": sum(s.suspect for s in scans),
            "partial": sum(s.partial for s in scans),
            "bad": sum(s.bad for s in scans),
        },
        covered_seconds=sum(e - s for s, e in covered),
        covered_full_seconds=sum(e - s for s, e in covered_full),
        holes=len(holes),
        hole_seconds=sum(holes),
        overlaps=sum(s.overlaps for s in scans),
        pixels=bytes(pixels),
    )
