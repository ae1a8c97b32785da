"""What every restreamer handler shares (config, the one SegmentIndex, caches, clock), by typed AppKey."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.hls.playlist import EntryCache
from wubloader.restreamer.frame_rates import FrameRateCache
from wubloader.restreamer.segment_file import SegmentResolver

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

    from wubloader.restreamer.config import RestreamerConfig
    from wubloader.restreamer.listing_cache import HourListingCache
    from wubloader.restreamer.media_slots import MediaSlots, OutputPace
    from wubloader.restreamer.peaks_cache import PeaksCache
    from wubloader.runtime.workers import WorkerPool
    from wubloader.store.selection import SegmentIndex


@dataclass(frozen=True, slots=True, kw_only=True)
class RestreamerState:
    """Services built once per app by `create_app` and passed to handlers through `STATE`.

    `resolver` maps /segments path components to files, never outside the store.
    `now` returns naive UTC (injected so tests can control "the past").
    `replication` is the thread pool of the replication routes' directory reads (`listings` uses it).
    `media` bounds the ffmpeg work of cuts, waveforms and frames, `pace` the bytes per second cuts
    send; `peaks` keeps each hour's waveform peaks once decoded; `playback` the playlists rendered
    at once (CPU work on the event loop that peers' requests would otherwise queue behind).
    """

    config: RestreamerConfig
    index: SegmentIndex
    now: Callable[[], datetime]
    resolver: SegmentResolver
    replication: WorkerPool
    listings: HourListingCache
    media: MediaSlots
    pace: OutputPace
    playback: asyncio.Semaphore
    peaks: PeaksCache
    entries: EntryCache = field(default_factory=EntryCache)
    frame_rates: FrameRateCache = field(default_factory=FrameRateCache)

    def media_slot(self) -> AbstractAsyncContextManager[None]:
        """Hold one of the bounded media slots (raises Busy → 503 when none can be had)."""
        return self.media.hold()

    @staticmethod
    def resolver_for(config: RestreamerConfig) -> SegmentResolver:
        """Resolves segment paths against the store's real path (symlinks in BASE itself are fine)."""
        return SegmentResolver(os.path.realpath(config.base_dir), max_path_bytes=config.paths_cache_bytes)


STATE = web.AppKey("restreamer_state", RestreamerState)


def state_of(request: web.Request) -> RestreamerState:
    return request.app[STATE]
