"""What every restreamer handler shares (config, the one SegmentIndex, caches, clock), by typed AppKey."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.hls.playlist import EntryCache
from wubloader.restreamer.errors import Busy
from wubloader.restreamer.frame_rates import FrameRateCache
from wubloader.restreamer.segment_file import SegmentResolver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from datetime import datetime

    from wubloader.restreamer.config import RestreamerConfig
    from wubloader.restreamer.listing_cache import HourListingCache
    from wubloader.runtime.workers import WorkerPool
    from wubloader.store.selection import SegmentIndex


@dataclass(frozen=True, slots=True, kw_only=True)
class RestreamerState:
    """Services built once per app by `create_app` and passed to handlers through `STATE`.

    `resolver` maps /segments path components to files, never outside the store.
    `now` returns naive UTC (injected so tests can control "the past").
    `replication` is the thread pool of the replication routes' directory reads (`listings` uses it).
    """

    config: RestreamerConfig
    index: SegmentIndex
    now: Callable[[], datetime]
    resolver: SegmentResolver
    replication: WorkerPool
    listings: HourListingCache
    entries: EntryCache = field(default_factory=EntryCache)
    frame_rates: FrameRateCache = field(default_factory=FrameRateCache)
    media_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    @contextlib.asynccontextmanager
    async def media_slot(self) -> AsyncIterator[None]:
        """Hold one of the bounded ffmpeg slots; Busy if none frees up within the media time limit."""
        try:
            async with asyncio.timeout(self.config.media_time_limit):
                await self.media_slots.acquire()
        except TimeoutError:
            raise Busy("too many media requests in progress; retry later") from None
        try:
            yield
        finally:
            self.media_slots.release()

    @staticmethod
    def resolver_for(config: RestreamerConfig) -> SegmentResolver:
        """Resolves segment paths against the store's real path (symlinks in BASE itself are fine)."""
        return SegmentResolver(os.path.realpath(config.base_dir))


STATE = web.AppKey("restreamer_state", RestreamerState)


def state_of(request: web.Request) -> RestreamerState:
    return request.app[STATE]
