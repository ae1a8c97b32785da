"""Audio peaks per stored hour, decoded once and kept in a byte-budgeted LRU: the editor's waveform strip.

Rendering a waveform over a whole window on every request decodes all of its audio (about 10 s per
2 hours on a small machine). An hour's peaks depend only on the segments chosen for it, so they are
kept with those segments' paths: a request for an hour already seen costs one segment selection; an
hour that grew (the live hour) decodes only the new segments; one whose selection changed otherwise
(backfill filled a hole) is decoded again.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.media.waveform import NO_AUDIO, PEAKS_PER_SECOND, audio_peaks
from wubloader.store.cache import ByteBudgetLRU, names_bytes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

    from wubloader.store.naming import Segment
    from wubloader.store.selection import Chain, SegmentIndex

HOUR = timedelta(hours=1)
BINS_PER_HOUR = 3600 * PEAKS_PER_SECOND
# One ffmpeg run decodes at most this much audio. The PCM streams through PeakReader; runs were 10
# minutes when the PCM was held whole (a node warming an hour then grew ~50 MiB), and an ffmpeg start
# per 2 minutes of audio costs little.
MAX_RUN = timedelta(minutes=2)
# Consecutive segments further apart than this start a new run (a hole between them).
JOIN_TOLERANCE = timedelta(milliseconds=100)


@dataclass(frozen=True, slots=True, kw_only=True)
class HourPeaks:
    """An hour's peak levels (BINS_PER_HOUR bytes) and the segment paths they were decoded from."""

    paths: tuple[str, ...]
    bins: bytes


def decode_runs(segments: Sequence[Segment]) -> Iterator[list[Segment]]:
    """Split `segments` (in time order) into runs without holes, each at most MAX_RUN long."""
    run: list[Segment] = []
    for seg in segments:
        if run and (abs(seg.start - run[-1].end) > JOIN_TOLERANCE or seg.end - run[0].start > MAX_RUN):
            yield run
            run = []
        run.append(seg)
    if run:
        yield run


class PeaksCache:
    """The peaks of (channel, quality, hour), at most `max_bytes` of them; one decode per hour at a time.

    `slot()` is held around each ffmpeg run (the restreamer's bounded media work); `confine(chain)`
    checks a selected chain before its files are read (blocking, run in a thread).
    """

    def __init__(
        self,
        index: SegmentIndex,
        *,
        max_bytes: int,
        time_limit: float,
        slot: Callable[[], AbstractAsyncContextManager[None]],
        confine: Callable[[Chain], None],
    ) -> None:
        self.index = index
        self.time_limit = time_limit
        self.slot = slot
        self.confine = confine
        self._hours: ByteBudgetLRU[tuple[str, str, datetime], HourPeaks] = ByteBudgetLRU(max_bytes)
        self._locks: dict[tuple[str, str, datetime], asyncio.Lock] = {}
        self._waiting: collections.Counter[tuple[str, str, datetime]] = collections.Counter()

    async def hour_peaks(self, channel: str, quality: str, hour: datetime) -> bytes:
        """BINS_PER_HOUR levels for [hour, hour + 1 h), NO_AUDIO where nothing is stored.

        Requests for the same hour wait for one decode. FfmpegFailed/FfmpegTimeout from ffmpeg,
        the store's errors from `confine`, Busy when no media slot can be had.
        """
        key = (channel, quality, hour)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] += 1
        try:
            async with lock:
                return await self._fresh(key)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    def kept(self, channel: str, quality: str, hour: datetime) -> bool:
        """Whether some peaks of the hour are kept (a request may still decode segments added since)."""
        return (channel, quality, hour) in self._hours

    async def _fresh(self, key: tuple[str, str, datetime]) -> bytes:
        channel, quality, hour = key
        chain = await self.index.best_segments_async(channel, quality, hour, hour + HOUR)
        segments = [seg for seg in chain if seg is not None]
        paths = tuple(seg.path for seg in segments)
        cached = self._hours.get(key)
        if cached is not None and cached.paths == paths:
            return cached.bins
        if cached is not None and paths[: len(cached.paths)] == cached.paths:
            bins, todo = bytearray(cached.bins), segments[len(cached.paths) :]
        else:
            bins, todo = bytearray([NO_AUDIO]) * BINS_PER_HOUR, segments
        await asyncio.to_thread(self.confine, list(todo))
        for run in decode_runs(todo):
            async with self.slot():
                offset = (run[0].start - hour).total_seconds()
                await audio_peaks([seg.path for seg in run], offset, bins, time_limit=self.time_limit)
        peaks = HourPeaks(paths=paths, bins=bytes(bins))
        self._hours.put(key, peaks, BINS_PER_HOUR + names_bytes(paths))  # paths: ~0.45 MB an hour
        return peaks.bins
