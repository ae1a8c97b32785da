"""Integrity: re-hash segments against their names; quarantine corrupt ones so backfill restores them.

`verify` is the one-shot operator check; `Scrubber` does the same continuously at a low rate inside a node.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.maintenance.metrics import SCRUB_BYTES, SCRUB_FILES, SCRUB_LAST_PASS, SCRUB_PASSES
from wubloader.maintenance.scope import TimeRange, channel_qualities, check_channel
from wubloader.maintenance.throttle import Throttle
from wubloader.store.listing import list_channels, list_hours, list_qualities
from wubloader.store.naming import parse_hour
from wubloader.store.quarantine import check_segment, check_segment_async
from wubloader.store.walk import ONE_HOUR, visible_segments

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from wubloader.store.naming import Segment
    from wubloader.store.quarantine import Checked

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyResult:
    """How many files and bytes were re-hashed, and the corrupt ones (quarantined with `fix`)."""

    files: int
    bytes: int
    corrupt: tuple[Checked, ...]

    @property
    def complete(self) -> bool:
        """Nothing corrupt is left visible."""
        return all(c.quarantined is not None for c in self.corrupt)


def segments_to_verify(base: Path, channel: str | None, span: TimeRange) -> Iterator[Segment]:
    """Visible segments of one channel (or all) starting in `span`, channel by channel, in time order."""
    channels = [check_channel(base, channel)] if channel else list_channels(base)
    for chan in channels:
        for quality in channel_qualities(base, chan):
            yield from visible_segments(base, chan, quality, span.start, span.end)


def verify(
    base: Path,
    segments: Iterator[Segment],
    *,
    max_rate: float | None = None,
    fix: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyResult:
    """Re-hash every segment (at most `max_rate` bytes/s); with `fix`, quarantine the corrupt ones."""
    throttle = Throttle(max_rate)
    files = size = 0
    corrupt = []
    for seg in segments:
        checked = check_segment(base, seg, fix=fix)
        if checked is None:
            continue
        files += 1
        size += checked.size
        if checked.corrupt:
            corrupt.append(checked)
        sleep(throttle.delay(checked.size))
    return VerifyResult(files=files, bytes=size, corrupt=tuple(corrupt))


class Scrubber:
    """Re-hashes the whole store again and again at `rate` bytes/s, quarantining corrupt files.

    Between passes it rests `rest` seconds. Each file is counted in the scrub metrics.
    """

    def __init__(self, base: Path, rate: float, *, rest: float = 60.0) -> None:
        self.base = base
        self.rate = rate
        self.rest = rest

    async def run(self, stop: asyncio.Event) -> None:
        """Scrub until `stop` is set."""
        while not stop.is_set():
            await self.scrub_pass(stop)
            try:
                async with asyncio.timeout(self.rest):
                    await stop.wait()
            except TimeoutError:
                pass

    async def scrub_pass(self, stop: asyncio.Event) -> None:
        """One pass over every visible segment (unless stopped midway), listing one hour at a time."""
        throttle = Throttle(self.rate)
        for channel, quality, hour in await asyncio.to_thread(self._hours):
            start = parse_hour(hour)
            segments = await asyncio.to_thread(
                list, visible_segments(self.base, channel, quality, start, start + ONE_HOUR)
            )
            for seg in segments:
                if stop.is_set():
                    return
                await asyncio.sleep(throttle.delay(await self._scrub_one(seg)))
        SCRUB_PASSES.inc()
        SCRUB_LAST_PASS.set(time.time())

    def _hours(self) -> list[tuple[str, str, str]]:
        return [
            (channel, quality, hour)
            for channel in list_channels(self.base)
            for quality in list_qualities(self.base, channel)
            for hour in list_hours(self.base, channel, quality)
        ]

    async def _scrub_one(self, seg: Segment) -> int:
        """Check one segment (quarantining it if corrupt); the bytes read."""
        checked = await check_segment_async(self.base, seg, fix=True)
        if checked is None:
            return 0
        SCRUB_BYTES.inc(checked.size)
        SCRUB_FILES.labels("corrupt" if checked.corrupt else "ok").inc()
        if checked.corrupt:
            logger.warning("scrub: %s is corrupt; quarantined to %s", checked.path, checked.quarantined)
        return checked.size
