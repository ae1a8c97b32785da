"""One coverage pass: scan each channel/quality's hours, draw its map, publish metrics, report per hour."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.coverage import metrics
from wubloader.coverage.map_image import render_map, write_atomically
from wubloader.coverage.timeline import Coverage, build_coverage
from wubloader.store.extras import coverage_map_name, coverage_maps_dir
from wubloader.store.hour_scan import HourScanCache
from wubloader.store.listing import list_channels, list_hours, list_qualities
from wubloader.store.naming import hour_name, parse_hour

if TYPE_CHECKING:
    from pathlib import Path

    from wubloader.store.hour_scan import HourScan

logger = logging.getLogger(__name__)

ONE_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class HourLine:
    """What an operator reads about one hour."""

    hour: str
    scan: HourScan

    def text(self) -> str:
        s = self.scan
        covered = sum(e - b for b, e in s.covered)
        full = sum(e - b for b, e in s.covered_full)
        return (
            f"{self.hour}: {s.segments} segments ({s.full} full, {s.suspect} suspect, {s.partial} partial, "
            f"{s.bad} bad), {covered:.1f} s covered ({full:.1f} s by full), {s.overlaps} overlaps"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityReport:
    """One channel/quality after a pass: per-hour lines, totals, and where its map was written."""

    channel: str
    quality: str
    hours: tuple[HourLine, ...]
    coverage: Coverage
    map_path: Path | None


class CoverageChecker:
    """Coverage passes over a store; hour scans are cached, so a pass re-reads only changed hours.

    `channels` empty means every channel in the store; `qualities` empty every quality of each.
    A map spans at most `max_hours`, ending with the newest hour.
    """

    def __init__(
        self,
        base: Path,
        channels: tuple[str, ...] = (),
        qualities: tuple[str, ...] = (),
        max_hours: int = 336,
    ) -> None:
        self.base = base
        self.channels = channels
        self.qualities = qualities
        self.max_hours = max_hours
        self.cache = HourScanCache(max_hours=max(4096, 2 * max_hours))

    def targets(self) -> list[tuple[str, str]]:
        channels = self.channels or tuple(list_channels(self.base))
        return [(c, q) for c in channels for q in (self.qualities or list_qualities(self.base, c))]

    def check(self, channel: str, quality: str) -> QualityReport:
        """Scan, draw (atomically, into `BASE/coverage-maps/`) and publish one channel/quality."""
        names = self._hour_names(channel, quality)
        scans = [self.cache.scan(self.base / channel / quality / name) for name in names]
        coverage = build_coverage(scans)
        map_path = None
        if names:
            map_path = coverage_maps_dir(self.base) / coverage_map_name(channel, quality)
            write_atomically(map_path, render_map(coverage.pixels))
        publish(channel, quality, coverage)
        lines = tuple(HourLine(hour=n, scan=s) for n, s in zip(names, scans, strict=True))
        return QualityReport(
            channel=channel, quality=quality, hours=lines, coverage=coverage, map_path=map_path
        )

    def _hour_names(self, channel: str, quality: str) -> list[str]:
        hours = list_hours(self.base, channel, quality)
        if not hours:
            return []
        last = parse_hour(hours[-1])
        first = max(parse_hour(hours[0]), last - (self.max_hours - 1) * ONE_HOUR)
        count = int((last - first) / ONE_HOUR) + 1
        return [hour_name(first + k * ONE_HOUR) for k in range(count)]

    def run_pass(self) -> list[QualityReport]:
        """Every target once; a failing target is logged and counted, the others still run."""
        started = time.monotonic()
        reports: list[QualityReport] = []
        failed = False
        for channel, quality in self.targets():
            try:
                reports.append(self.check(channel, quality))
            except OSError:
                logger.exception("coverage of %s/%s failed", channel, quality)
                failed = True
        metrics.PASSES.labels("error" if failed else "ok").inc()
        metrics.PASS_SECONDS.set(time.monotonic() - started)
        return reports

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """A pass every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            await asyncio.to_thread(self.run_pass)
            try:
                async with asyncio.timeout(interval):
                    await stop.wait()
            except TimeoutError:
                pass


def publish(channel: str, quality: str, coverage: Coverage) -> None:
    """Set the channel/quality gauges from one pass's totals."""
    for kind, count in coverage.segments.items():
        metrics.SEGMENTS.labels(channel, quality, kind).set(count)
    metrics.HOURS.labels(channel, quality).set(coverage.hours)
    metrics.COVERED.labels(channel, quality, "any").set(coverage.covered_seconds)
    metrics.COVERED.labels(channel, quality, "full").set(coverage.covered_full_seconds)
    metrics.HOLES.labels(channel, quality).set(coverage.holes)
    metrics.HOLE_SECONDS.labels(channel, quality).set(coverage.hole_seconds)
    metrics.OVERLAPS.labels(channel, quality).set(coverage.overlaps)
