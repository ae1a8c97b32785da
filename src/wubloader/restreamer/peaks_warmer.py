"""Decodes each hour's waveform peaks in the background soon after the hour completes.

An editor's first view of an hour nobody has seen waits for its audio to be decoded (about 40 s
per hour on a small machine). Events are edited soon after they happen, so the restreamer decodes
the last few complete hours of every channel and video quality ahead of time, one ffmpeg at a
time (niced, in one of the bounded media slots, yielding when editors hold them all), into the
same byte-budgeted cache the `/waveform/…/{hour}.peaks` route reads.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wubloader.errors import WubloaderError
from wubloader.restreamer.errors import Busy
from wubloader.restreamer.peaks_cache import HOUR
from wubloader.restreamer.routes_playlist import NON_VIDEO_QUALITIES, audio_of
from wubloader.store.listing import list_channels, list_qualities
from wubloader.store.naming import hour_name

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from aiohttp import web

    from wubloader.restreamer.peaks_cache import PeaksCache

log = logging.getLogger(__name__)
Key = tuple[str, str, datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class WarmSettings:
    """`hours`: complete hours back from now kept decoded (0 = off); `interval`: seconds between
    looks at the store; `grace`: how long after an hour ends before it counts as complete (late
    segments and backfill from peers land in it meanwhile)."""

    hours: int
    interval: float = 60.0
    grace: timedelta = timedelta(minutes=2)


def recent_hours(now: datetime, hours: int, grace: timedelta) -> list[datetime]:
    """The `hours` newest hours that ended at least `grace` before `now`, newest first."""
    newest = (now - grace - HOUR).replace(minute=0, second=0, microsecond=0)
    return [newest - i * HOUR for i in range(hours)]


def video_qualities(base: Path, channel: str) -> list[str]:
    """The qualities an editor plays (no chat, no separate sound of another quality)."""
    qualities = list_qualities(base, channel)
    return [q for q in qualities if q not in NON_VIDEO_QUALITIES and audio_of(q, qualities) is None]


def stored_hours(base: Path, hours: list[datetime]) -> list[Key]:
    """(channel, quality, hour) of each of `hours` the store holds a directory for (blocking)."""
    return [
        (channel, quality, hour)
        for hour in hours
        for channel in list_channels(base)
        for quality in video_qualities(base, channel)
        if (base / channel / quality / hour_name(hour)).is_dir()
    ]


class PeaksWarmer:
    """Keeps the peaks of recent complete hours decoded; `warm_once` is one look at the store."""

    def __init__(
        self, base: Path, peaks: PeaksCache, settings: WarmSettings, now: Callable[[], datetime]
    ) -> None:
        self.base = base
        self.peaks = peaks
        self.settings = settings
        self.now = now
        self.done: set[Key] = set()  # decoded (or failed for good): not looked at again

    async def warm_once(self) -> list[Key]:
        """Decode every recent complete hour not done yet, one at a time; returns those decoded."""
        hours = recent_hours(self.now(), self.settings.hours, self.settings.grace)
        keys = await asyncio.to_thread(stored_hours, self.base, hours)
        self.done &= set(keys)  # forget hours that left the window
        decoded: list[Key] = []
        for key in keys:
            if key in self.done:
                continue
            try:
                await self.peaks.hour_peaks(*key)
            except Busy:
                return decoded  # editors hold every media slot: try again at the next look
            except WubloaderError as exc:
                log.warning("waveform peaks of %s %s %s not decoded: %s", *key[:2], hour_name(key[2]), exc)
            else:
                decoded.append(key)
            self.done.add(key)
        return decoded

    async def run(self) -> None:
        """Look at the store every `interval` seconds until cancelled."""
        while True:
            try:
                await self.warm_once()
            except OSError as exc:
                log.warning("waveform peaks warming skipped a round: %s", exc)
            await asyncio.sleep(self.settings.interval)


def warming_context(warmer: PeaksWarmer) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context that runs `warmer` while the app runs (nothing if it is off)."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        if warmer.settings.hours <= 0:
            yield
            return
        task = asyncio.create_task(warmer.run(), name="peaks-warmer")
        yield
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    return context
