"""Fetching one segment into the store: init section + body streamed into a SegmentWriter, with retries.

Types (docs/store.md): `full`; `suspect` when the fetch took ≥ `suspect_after`, the body was empty or
the start time is not trusted; `partial` (what was received) when the transfer failed midway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from wubloader.downloader.errors import DownloaderError
from wubloader.downloader.metrics import (
    ERRORS,
    FETCH_LATENCY,
    LATEST_SEGMENT,
    SEGMENT_BYTES,
    SEGMENTS,
    ErrorKind,
    FetchWhat,
)
from wubloader.downloader.segment_sink import DiskHealth, SegmentSink, open_segment_writer
from wubloader.runtime.errors import (
    FetchConnectionError,
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    FetchTooLarge,
)
from wubloader.runtime.http_client import fetch_bytes, iter_body, redact_url
from wubloader.store import SegmentType
from wubloader.store.naming import hour_name, segment_filename

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

    import aiohttp

    from wubloader.downloader.config import DownloaderConfig
    from wubloader.downloader.segment_sink import Writer
    from wubloader.hls.parse_records import ByteRange, InitSection
    from wubloader.runtime.workers import WorkerPool

logger = logging.getLogger(__name__)

MAX_SEGMENT_BYTES = 512 * 1024 * 1024
# A body limit for very short (or zero-length) segments: a keyframe alone can be this large.
MIN_LIMIT_SECONDS = 1.0
INIT_CACHE_SIZE = 16
# A segment URL answering one of these is gone for this URL (expired signature, aged out of the window).
GONE_STATUSES = frozenset({403, 404, 410})


class SegmentGone(DownloaderError):
    """The segment's URL answered 403/404/410; another (newer) URL may still serve it."""


class SegmentTooLarge(DownloaderError):
    """The body exceeded a plausible bitrate * duration: a broken or hostile source; not retried."""


class SegmentAbandoned(DownloaderError):
    """Retries stopped (give-up horizon passed, or the worker is stopping) without a stored copy."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentJob:
    """One segment to store: where to fetch it and the name it gets (start from PDT, EXTINF text)."""

    uri: str
    start: datetime
    duration_text: str
    byterange: ByteRange | None
    init_section: InitSection | None
    distrusted: bool = False

    @property
    def key(self) -> tuple[datetime, str]:
        """Identity across workers and URLs: segments with the same start and duration are the same."""
        return (self.start, self.duration_text)


class StoreProbe:
    """Answers "is there already a `full` copy of this segment?" from the hour directory's listing."""

    def __init__(self, base: Path, channel: str, quality: str) -> None:
        self.quality_dir = base / channel / quality

    def has_full(self, start: datetime, duration_text: str) -> bool:
        prefix = segment_filename(start, duration_text, SegmentType.FULL, "")[: -len(".ts")]
        try:
            names = os.listdir(self.quality_dir / hour_name(start))
        except FileNotFoundError:
            return False
        return any(name.startswith(prefix) and name.endswith(".ts") for name in names)


class InitCache:
    """Init sections (EXT-X-MAP) fetched once per URI+range and kept in a small LRU."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float, quality: str) -> None:
        self.session = session
        self.timeout = timeout
        self.quality = quality
        self._cache: OrderedDict[InitSection, bytes] = OrderedDict()
        self._lock = asyncio.Lock()

    async def get(self, section: InitSection) -> bytes:
        async with self._lock:  # one fetch per section even when many segments start at once
            data = self._cache.get(section)
            if data is not None:
                self._cache.move_to_end(section)
                return data
            started = time.perf_counter()
            data = await fetch_range(
                self.session, section.uri, section.byterange, self.timeout, "downloader_init"
            )
            FETCH_LATENCY.labels(self.quality, FetchWhat.INIT).observe(time.perf_counter() - started)
            self._cache[section] = data
            while len(self._cache) > INIT_CACHE_SIZE:
                self._cache.popitem(last=False)
            return data


async def fetch_range(
    session: aiohttp.ClientSession,
    uri: str,
    byterange: ByteRange | None,
    time_limit: float,
    name: str,
    max_bytes: int = MAX_SEGMENT_BYTES,
) -> bytes:
    """GET a whole resource, or exactly `byterange` of it (tolerating servers that ignore Range).

    Raises FetchTooLarge over `max_bytes` (a range is allowed its own length on top: some servers
    ignore Range and send the whole resource)."""
    headers = {"Range": byterange.header} if byterange is not None else None
    if byterange is not None:
        max_bytes = max(max_bytes, byterange.offset + byterange.length)
    data = await fetch_bytes(
        session, uri, timeout=time_limit, headers=headers, max_bytes=max_bytes, name=name
    )
    if byterange is None or len(data) == byterange.length:
        return data
    if len(data) >= byterange.offset + byterange.length:  # a 200 with the whole resource
        return data[byterange.offset : byterange.offset + byterange.length]
    shown = redact_url(uri)
    raise FetchConnectionError(f"{shown}: range {byterange.header} answered with {len(data)} bytes", shown)


def classify_fetch_error(exc: FetchError) -> ErrorKind:
    if isinstance(exc, FetchHTTPError):
        return ErrorKind.SEGMENT_HTTP
    if isinstance(exc, FetchTimeout):
        return ErrorKind.SEGMENT_TIMEOUT
    return ErrorKind.SEGMENT_CONNECTION


class SegmentFetcher:
    """Stores segments of one quality; shared by that quality's workers (one session, one init cache).

    Store look-ups and file writes run in `pool`, the downloader's own threads, never the loop's
    shared default pool.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: DownloaderConfig,
        quality: str,
        *,
        pool: WorkerPool,
        monotonic: Callable[[], float] = time.monotonic,
        open_writer: Callable[[Path, str, str, datetime, str], Writer] = open_segment_writer,
    ) -> None:
        self.session = session
        self.config = config
        self.quality = quality
        self.pool = pool
        self.monotonic = monotonic
        self.open_writer = open_writer
        self.disk = DiskHealth(f"{config.channel}/{quality}", monotonic)
        self.probe = StoreProbe(config.base_dir, config.channel, quality)
        self.init_cache = InitCache(session, config.segment_timeout, quality)
        self.latest_end: datetime | None = None

    def _count_error(self, kind: ErrorKind) -> None:
        ERRORS.labels(self.config.channel, self.quality, kind).inc()

    async def store(self, job: SegmentJob, stopping: asyncio.Event) -> SegmentType | None:
        """Fetch until stored as full/suspect, already present, gone, or past the give-up horizon.

        Returns the stored type, or None when a `full` copy was already in the store. Raises
        SegmentGone on 403/404/410 (the caller may let a newer URL take the segment) and
        SegmentAbandoned past the horizon; no new attempt starts once `stopping` is set.
        """
        deadline = self.monotonic() + self.config.give_up_after
        delay = self.config.retry_initial
        while True:
            if await self.pool.run(self.probe.has_full, job.start, job.duration_text):
                return None
            try:
                return await self._attempt(job)
            except (SegmentTooLarge, FetchTooLarge) as exc:
                self._count_error(ErrorKind.SEGMENT_TOO_LARGE)
                logger.warning("refusing segment %s (%s): %s", job.start, self.quality, exc)
                raise SegmentAbandoned(str(exc)) from exc
            except FetchHTTPError as exc:
                if exc.status in GONE_STATUSES:
                    self._count_error(ErrorKind.SEGMENT_GONE)
                    raise SegmentGone(str(exc)) from exc
                error: FetchError = exc
            except FetchError as exc:
                error = exc
            self._count_error(classify_fetch_error(error))
            if stopping.is_set() or self.monotonic() + delay > deadline:
                self._count_error(ErrorKind.SEGMENT_GAVE_UP)
                logger.warning("giving up on segment %s (%s): %s", job.start, self.quality, error)
                raise SegmentAbandoned(str(error)) from error
            logger.info(
                "segment %s (%s) failed, retrying in %.1f s: %s", job.start, self.quality, delay, error
            )
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.config.retry_max)

    async def _attempt(self, job: SegmentJob) -> SegmentType:
        """One fetch. Nothing is written unless the server answered 2xx; failing midway commits a partial.

        Bytes arrive on the loop; files are created, written, fsynced and renamed in the executor.
        """
        started = self.monotonic()
        init = await self.init_cache.get(job.init_section) if job.init_section is not None else b""
        limit = self.body_limit(job)
        if job.byterange is not None:
            body = await fetch_range(
                self.session, job.uri, job.byterange, self.config.segment_timeout, "segment", limit
            )
            return await self._commit_whole(job, init, body, started)
        chunks = iter_body(
            self.session,
            job.uri,
            timeout=self.config.segment_timeout,
            read_timeout=self.config.segment_read_timeout,
            name="downloader_segment",
        )
        async with contextlib.aclosing(chunks), self._sink(job) as sink:
            first = await anext(chunks, b"")  # raises before any file exists on a bad status
            await sink.add(init)
            received = 0
            try:
                chunk = first
                while chunk:
                    received += len(chunk)
                    if received > limit:
                        raise SegmentTooLarge(f"body over {limit} bytes")
                    await sink.add(chunk)
                    chunk = await anext(chunks, b"")
            except FetchError:
                if received:
                    await sink.commit(SegmentType.PARTIAL)
                    self._record(SegmentType.PARTIAL, job, sink.size)
                raise
            seg_type = self._final_type(job, received, started)
            await sink.commit(seg_type)
        self._record(seg_type, job, sink.size)
        FETCH_LATENCY.labels(self.quality, FetchWhat.SEGMENT).observe(self.monotonic() - started)
        return seg_type

    def body_limit(self, job: SegmentJob) -> int:
        """The most bytes a plausible segment of this duration holds (`max_bitrate` * duration)."""
        seconds = max(float(job.duration_text), MIN_LIMIT_SECONDS)
        return int(self.config.max_bitrate / 8 * seconds)

    def _sink(self, job: SegmentJob) -> SegmentSink:
        where = (self.config.base_dir, self.config.channel, self.quality, job.start, job.duration_text)
        return SegmentSink(self.pool, self.open_writer, where)

    async def _commit_whole(self, job: SegmentJob, init: bytes, body: bytes, started: float) -> SegmentType:
        async with self._sink(job) as sink:
            await sink.add(init)
            await sink.add(body)
            seg_type = self._final_type(job, len(body), started)
            await sink.commit(seg_type)
        self._record(seg_type, job, sink.size)
        FETCH_LATENCY.labels(self.quality, FetchWhat.SEGMENT).observe(self.monotonic() - started)
        return seg_type

    def _final_type(self, job: SegmentJob, received: int, started: float) -> SegmentType:
        elapsed = self.monotonic() - started
        if received == 0 or job.distrusted or elapsed >= self.config.suspect_after:
            logger.warning(
                "segment %s (%s) stored as suspect: %d bytes in %.1f s%s",
                job.start, self.quality, received, elapsed, ", start distrusted" if job.distrusted else "",
            )  # fmt: skip
            return SegmentType.SUSPECT
        return SegmentType.FULL

    def _record(self, seg_type: SegmentType, job: SegmentJob, size: int) -> None:
        SEGMENTS.labels(self.config.channel, self.quality, seg_type).inc()
        SEGMENT_BYTES.labels(self.config.channel, self.quality).inc(size)
        if seg_type is SegmentType.PARTIAL:
            return
        end = job.start + _seconds(job.duration_text)
        if self.latest_end is None or end > self.latest_end:
            self.latest_end = end
            LATEST_SEGMENT.labels(self.config.channel, self.quality).set(
                job.start.replace(tzinfo=UTC).timestamp()
            )


def _seconds(duration_text: str) -> timedelta:
    return timedelta(seconds=float(duration_text))
