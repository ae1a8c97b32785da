"""A worker polls one media playlist URL of one quality and stores every new segment it lists.

It never blocks on its manager: trouble (403/404, ENDLIST, repeated failures) is reported and the
worker keeps polling its URL with backoff, so a stream that comes back on the same URL resumes at
once, and a replacement URL (twitch) takes over when the newer worker sees real content.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from typing import TYPE_CHECKING, Protocol

from wubloader.downloader.claims import ClaimState
from wubloader.downloader.metrics import (
    ADS_SKIPPED,
    ERRORS,
    NEWEST_SEGMENT_AGE,
    TIMESTAMP_SKEWS,
    ErrorKind,
)
from wubloader.downloader.playlist_reader import Notes, PlaylistReader
from wubloader.downloader.segment_fetch import GONE_STATUSES, SegmentAbandoned, SegmentGone, SegmentJob
from wubloader.downloader.timeline import Plausibility, TimedSegment, assign_starts, find_skew
from wubloader.hls.parse_attributes import PlaylistParseError
from wubloader.runtime.errors import FetchError, FetchHTTPError, FetchTimeout
from wubloader.runtime.timeparse import now_utc
from wubloader.store import format_duration

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import aiohttp

    from wubloader.downloader.claims import Claims
    from wubloader.downloader.config import DownloaderConfig
    from wubloader.downloader.segment_fetch import SegmentFetcher
    from wubloader.hls.parse_records import MediaPlaylist, MediaSegment

    SegmentKey = tuple[datetime, str]

logger = logging.getLogger(__name__)

MAX_POLL_BACKOFF = 10.0
REMEMBERED_URIS = 512


class WorkerEvents(Protocol):
    """What a worker tells its manager (both calls return at once)."""

    def on_content(self, worker: MediaWorker) -> None:
        """The worker saw a non-ad segment: older workers of its quality can stop."""

    def on_trouble(self, worker: MediaWorker) -> None:
        """The worker's URL looks expired or the stream ended: look for a new URL."""


class MediaWorker:
    """Polls `url` every `poll_interval` and stores new segments through the quality's shared fetcher.

    Each segment is handled once per worker (scheduled, refused, counted as an ad, or left to the
    worker already fetching it, and taken over if that one gives it back); a playlist that
    only grew since the last poll is handled from where the last poll stopped, so a day-long EVENT
    playlist costs only its new lines.
    """

    def __init__(
        self,
        *,
        worker_id: int,
        quality: str,
        url: str,
        session: aiohttp.ClientSession,
        config: DownloaderConfig,
        fetcher: SegmentFetcher,
        claims: Claims,
        events: WorkerEvents,
        now: Callable[[], datetime] = now_utc,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = worker_id
        self.quality = quality
        self.url = url
        self.config = config
        self.fetcher = fetcher
        self.claims = claims
        self.events = events
        self.now = now
        self.monotonic = monotonic
        self.started_at = monotonic()
        self.needs_replacement = False
        self.polls = 0  # playlist fetches attempted (benchmarks count them)
        self.stopping = asyncio.Event()
        self.notes = Notes(config.channel, quality)
        self.reader = PlaylistReader(
            session, url, timeout=config.playlist_timeout, notes=self.notes, executor=fetcher.pool,
            monotonic=monotonic,
        )  # fmt: skip
        self.limits = Plausibility(max_duration=config.max_segment_duration)
        self._semaphore = asyncio.Semaphore(config.max_concurrent_fetches)
        self._known_starts: dict[int, datetime] = {}
        self._last_sequence: int | None = None
        self._processed = 0  # segments of the parsed playlist already handled
        self._handled: set[SegmentKey] = set()
        self._gone: set[SegmentKey] = set()
        self._retry: deque[SegmentJob] = deque(maxlen=REMEMBERED_URIS)
        # Segments another worker was fetching when this one saw them: taken over if it gives them
        # back (its URL expired, or it was stopped before finishing), dropped once they are done.
        self._contested: dict[SegmentKey, SegmentJob] = {}
        self._ended = False
        self._warned_estimate = False
        # Set once a timestamp skew is seen: this worker's segments from then on are stored suspect.
        self._distrust_from: datetime | None = None

    @property
    def age(self) -> float:
        return self.monotonic() - self.started_at

    def stop(self) -> None:
        """Stop polling; fetches in flight finish (without further retries) before `run` returns."""
        self.stopping.set()

    def _error(self, kind: ErrorKind) -> None:
        ERRORS.labels(self.config.channel, self.quality, kind).inc()

    async def run(self) -> None:
        """Poll until stopped (or cancelled: fetches in flight are then aborted, leaving no temp file)."""
        try:
            async with asyncio.TaskGroup() as fetches:
                await self._poll_loop(fetches)
        finally:
            self.stopping.set()

    async def _poll_loop(self, fetches: asyncio.TaskGroup) -> None:
        failures = 0
        while not self.stopping.is_set():
            self.polls += 1
            playlist = await self._poll()
            if playlist is None:
                failures += 1
            else:
                failures = 0
                self._schedule(fetches, playlist)
                self._check_end(playlist)
            self._resume_retries(fetches)
            self._take_over_released(fetches)
            self._update_age()
            delay = self.config.poll_interval
            if failures or self._ended:
                delay = min(delay * 2 ** min(failures or 1, 5), MAX_POLL_BACKOFF)
            try:
                async with asyncio.timeout(delay * random.uniform(0.9, 1.1)):
                    await self.stopping.wait()
            except TimeoutError:
                pass

    async def _poll(self) -> MediaPlaylist | None:
        """Fetch and parse the playlist; None (logged, counted) on any failure."""
        try:
            return await self.reader.read()
        except FetchHTTPError as exc:
            self._error(ErrorKind.PLAYLIST_HTTP)
            if exc.status in GONE_STATUSES:
                logger.info(
                    "%s playlist answered %d: asking for a new URL, still polling", self.quality, exc.status
                )
                self.events.on_trouble(self)
            else:
                logger.warning("%s playlist fetch failed: %s", self.quality, exc)
        except FetchTimeout as exc:
            self._error(ErrorKind.PLAYLIST_TIMEOUT)
            logger.warning("%s playlist fetch failed: %s", self.quality, exc)
        except FetchError as exc:
            self._error(ErrorKind.PLAYLIST_CONNECTION)
            logger.warning("%s playlist fetch failed: %s", self.quality, exc)
        except PlaylistParseError as exc:
            self._error(ErrorKind.PLAYLIST_PARSE)
            logger.warning("%s playlist is malformed, retrying: %s", self.quality, exc)
        return None

    def _check_end(self, playlist: MediaPlaylist) -> None:
        if playlist.endlist and not self._ended:
            logger.info("%s playlist ended (ENDLIST): polling on with backoff", self.quality)
            self.events.on_trouble(self)
        self._ended = playlist.endlist

    def _update_age(self) -> None:
        latest = self.fetcher.latest_end
        if latest is not None:
            age = (self.now() - latest).total_seconds()
            NEWEST_SEGMENT_AGE.labels(self.config.channel, self.quality).set(age)

    def _new_segments(self, playlist: MediaPlaylist) -> tuple[tuple[MediaSegment, ...], bool]:
        """The segments to look at, and whether they are only what was appended since the last poll."""
        if playlist.unchanged and playlist.unchanged == self._processed:
            return playlist.segments[self._processed :], True
        if self._last_sequence is not None and playlist.media_sequence < self._last_sequence:
            logger.info("%s media sequence went back: the stream restarted", self.quality)
            self._known_starts = {}
        return playlist.segments, False

    def _schedule(self, fetches: asyncio.TaskGroup, playlist: MediaPlaylist) -> None:
        """Claim and start a fetch for every new segment not yet stored, fetched or refused."""
        segments, incremental = self._new_segments(playlist)
        self._last_sequence = playlist.media_sequence
        self._processed = len(playlist.segments)
        now = self.now()
        timeline = assign_starts(segments, self._known_starts, now, self.limits, playlist.ad_ranges)
        self._remember_starts(timeline.timed, incremental)
        if timeline.timed and timeline.timed[0].estimated and not self._warned_estimate:
            self._warned_estimate = True
            logger.warning(
                "%s playlist has no PROGRAM-DATE-TIME: start times come from the local clock", self.quality
            )
        for refusal in timeline.refused:
            self.notes.note(
                f"segment {refusal.segment.uri[-60:]} refused: {refusal.reason}", ErrorKind.IMPLAUSIBLE
            )
        self._check_skew(playlist)
        keys = [(item.start, format_duration(item.segment.duration)) for item in timeline.timed]
        if not incremental:  # forget what the window no longer lists: bounded by the window
            self._handled &= set(keys)
        saw_content = False
        for item, key in zip(timeline.timed, keys, strict=True):
            if key in self._handled:
                continue
            self._handled.add(key)
            saw_content = self._handle(fetches, item, key, now) or saw_content
        if saw_content:
            self.events.on_content(self)

    def _remember_starts(self, timed: list[TimedSegment], incremental: bool) -> None:
        starts = {t.segment.sequence: t.start for t in timed[-REMEMBERED_URIS:]}
        if incremental:
            self._known_starts.update(starts)
            while len(self._known_starts) > 2 * REMEMBERED_URIS:
                self._known_starts.pop(next(iter(self._known_starts)))
        else:
            self._known_starts = starts

    def _handle(self, fetches: asyncio.TaskGroup, item: TimedSegment, key: SegmentKey, now: datetime) -> bool:
        """Start storing one segment (or count it as an ad / refuse it); True if it is real content."""
        segment = item.segment
        if item.ad_reason is not None:
            self._count_ad(key, item.ad_reason)
            return False
        if segment.encryption is not None:
            # Ciphertext is no content: it must not end the previous worker during a handover.
            self._refuse_encrypted(segment.encryption.method)
            return False
        job = SegmentJob(
            uri=segment.uri,
            start=item.start,
            duration_text=key[1],
            byterange=segment.byterange,
            init_section=segment.init_section,
            distrusted=(item.start - now).total_seconds() > self.config.future_tolerance
            or (self._distrust_from is not None and item.start >= self._distrust_from),
        )
        self._start(fetches, job)
        return True

    def _start(self, fetches: asyncio.TaskGroup, job: SegmentJob) -> None:
        if job.key in self._gone:
            return
        if not self.fetcher.disk.ready():
            self._retry.append(job)  # the disk is failing: try again once its backoff has passed
            return
        if self.claims.try_claim(job.key, self.id):
            self._contested.pop(job.key, None)
            fetches.create_task(self._store(job))
        elif self.claims.state(job.key) is ClaimState.IN_FLIGHT:
            self._contested[job.key] = job
            if len(self._contested) > REMEMBERED_URIS:
                self._contested.pop(next(iter(self._contested)))

    def _resume_retries(self, fetches: asyncio.TaskGroup) -> None:
        while self._retry and self.fetcher.disk.ready() and not self.stopping.is_set():
            self._start(fetches, self._retry.popleft())

    def _take_over_released(self, fetches: asyncio.TaskGroup) -> None:
        """Fetch, under this worker's URL, the segments another worker held and has since given back.

        Without this a handover could lose a segment: the new worker skips what the old one holds,
        and the old one may then fail it (a 403 on its expired URL) or be stopped before fetching it.
        """
        for key, job in list(self._contested.items()):
            if self.stopping.is_set():
                return
            state = self.claims.state(key)
            if state is ClaimState.IN_FLIGHT:
                continue
            del self._contested[key]
            if state is None:
                self._start(fetches, job)

    def _check_skew(self, playlist: MediaPlaylist) -> None:
        """On twitch, a PDT jump marks this worker suspect from there on and asks for a fresh URL."""
        if not self.config.is_twitch or self._distrust_from is not None:
            return
        skewed = find_skew(playlist.segments)
        if skewed is None or skewed.program_date_time is None:
            return
        self._distrust_from = skewed.program_date_time
        TIMESTAMP_SKEWS.labels(self.config.channel, self.quality).inc()
        logger.warning(
            "%s timestamps jump at %s: storing this worker's segments from there as suspect, reconnecting",
            self.quality,
            skewed.program_date_time,
        )
        self.events.on_trouble(self)

    def _count_ad(self, key: SegmentKey, reason: str) -> None:
        # Claimed and finished at once: counted once per quality even when overlapping workers see it.
        if not self.claims.try_claim(key, self.id):
            return
        self.claims.finish(key)
        ADS_SKIPPED.labels(self.config.channel, self.quality, reason).inc()
        logger.info("%s skipping ad segment (%s)", self.quality, reason)

    def _refuse_encrypted(self, method: str) -> None:
        self._error(ErrorKind.ENCRYPTED)
        logger.error("%s segment is encrypted (%s): refusing to store ciphertext", self.quality, method)

    async def _store(self, job: SegmentJob) -> None:
        try:
            async with self._semaphore:
                if self.stopping.is_set():  # stopped while queued: leave it to another worker
                    self.claims.release(job.key)
                    return
                await self.fetcher.store(job, self.stopping)
        except SegmentGone as exc:
            self.claims.release(job.key)
            if len(self._gone) >= REMEMBERED_URIS:
                self._gone.clear()
            self._gone.add(job.key)
            logger.info("%s segment %s gone from this URL: %s", self.quality, job.start, exc)
            self.events.on_trouble(self)
            return
        except SegmentAbandoned:
            if self.stopping.is_set():  # a newer worker may still get it
                self.claims.release(job.key)
            else:
                self.claims.finish(job.key)
            return
        except OSError as exc:
            # A disk problem (full, read-only): back off, retry later, log each distinct error once.
            self.claims.release(job.key)
            self._error(ErrorKind.SEGMENT_WRITE)
            self.fetcher.disk.failed(exc)
            self._retry.append(job)
            return
        except BaseException:
            self.claims.release(job.key)
            raise
        self.fetcher.disk.succeeded()
        self.claims.finish(job.key)
