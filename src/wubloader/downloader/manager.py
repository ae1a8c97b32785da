"""The Downloader: one channel's provider, per-quality workers and their URL handover; runs until stopped.

Handover: when a worker reports trouble or its URL reaches the provider's `url_max_age`, the master
playlist is fetched again; a *different* URL starts a new worker beside the old one, and the old one
stops once the new one lists real (non-ad) content. The same URL is a valid answer: the worker just
keeps polling it. Claims shared per quality keep overlapping workers from fetching a segment twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import TYPE_CHECKING

from wubloader.downloader.claims import Claims
from wubloader.downloader.errors import ProviderError, StreamOffline
from wubloader.downloader.metrics import ERRORS, WORKERS, ErrorKind
from wubloader.downloader.providers import GenericProvider
from wubloader.downloader.segment_fetch import SegmentFetcher
from wubloader.downloader.segment_sink import open_segment_writer
from wubloader.downloader.twitch import TwitchProvider
from wubloader.downloader.worker import MediaWorker
from wubloader.hls.parse_attributes import PlaylistParseError
from wubloader.runtime.errors import FetchError
from wubloader.runtime.http_client import create_session
from wubloader.runtime.timeparse import now_utc
from wubloader.runtime.workers import PoolResolver, WorkerPool
from wubloader.store import remove_stale_temp_files

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

    import aiohttp

    from wubloader.downloader.config import DownloaderConfig
    from wubloader.downloader.providers import Provider
    from wubloader.downloader.segment_sink import Writer

logger = logging.getLogger(__name__)

MAX_WORKERS_PER_QUALITY = 3
MIN_MASTER_SPACING = 1.0
MAX_MASTER_BACKOFF = 60.0
IDLE_CHECK = 60.0
# Threads of the downloader's own pool (segment writes and fsyncs, store look-ups, large parses, DNS):
# never shared with request handlers, so playback or cuts cannot starve archiving, nor the reverse.
DOWNLOADER_THREADS = 4


def make_provider(config: DownloaderConfig) -> Provider:
    """The provider for `config.source`: twitch, or a generic HLS URL."""
    if config.is_twitch:
        return TwitchProvider(config.channel, config.twitch, timeout=config.playlist_timeout)
    return GenericProvider(config.source, timeout=config.playlist_timeout)


class Downloader:
    """Archives one channel's configured qualities into the store until `run` is stopped or cancelled."""

    def __init__(
        self,
        config: DownloaderConfig,
        *,
        provider: Provider | None = None,
        now: Callable[[], datetime] = now_utc,
        monotonic: Callable[[], float] = time.monotonic,
        open_writer: Callable[[Path, str, str, datetime, str], Writer] = open_segment_writer,
        pool: WorkerPool | None = None,
    ) -> None:
        self.config = config
        self.open_writer = open_writer
        self.pool = pool
        self.provider = provider if provider is not None else make_provider(config)
        self.now = now
        self.monotonic = monotonic
        self.workers: dict[str, list[MediaWorker]] = {q: [] for q in config.qualities}
        self.claims = {q: Claims() for q in config.qualities}
        self._refresh = asyncio.Event()
        self._next_id = 0
        self._offline = False
        self._stopping = False

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Archive until `stop` is set (graceful: in-flight writes get `stop_timeout`) or cancelled.

        Cleans this channel's stale temp files first. Cancellation aborts in-flight writes, which
        removes their temp files.
        """
        stop = stop if stop is not None else asyncio.Event()
        pool = self.pool or WorkerPool("downloader", DOWNLOADER_THREADS)
        try:
            await self._run(stop, pool)
        finally:
            if self.pool is None:
                pool.shutdown()
        logger.info("downloader for %s stopped", self.config.channel)

    async def _run(self, stop: asyncio.Event, pool: WorkerPool) -> None:
        base, channel = self.config.base_dir, self.config.channel
        await pool.run(remove_stale_temp_files, base, [channel])
        session = create_session(
            limit_per_host=2 * self.config.max_concurrent_fetches + 4, resolver=PoolResolver(pool)
        )
        async with session:
            fetchers = _Fetchers(
                lambda q: SegmentFetcher(
                    session, self.config, q, pool=pool, monotonic=self.monotonic, open_writer=self.open_writer
                )
            )
            tasks: set[asyncio.Task[None]] = set()
            async with asyncio.TaskGroup() as group:
                await self._master_loop(stop, group, session, fetchers, tasks)
                await self._stop_workers(tasks)

    async def _stop_workers(self, tasks: set[asyncio.Task[None]]) -> None:
        self._stopping = True
        for workers in self.workers.values():
            for worker in workers:
                worker.stop()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self.config.stop_timeout)
        if pending:
            logger.warning(
                "aborting %d workers' in-flight fetches after %.0f s", len(pending), self.config.stop_timeout
            )
            for task in pending:
                task.cancel()

    async def _master_loop(
        self,
        stop: asyncio.Event,
        group: asyncio.TaskGroup,
        session: aiohttp.ClientSession,
        fetchers: _Fetchers,
        tasks: set[asyncio.Task[None]],
    ) -> None:
        failures = 0
        self._refresh.set()
        while not stop.is_set():
            if self._needs_master():
                self._refresh.clear()
                started = self.monotonic()
                urls = await self._fetch_master(session)
                failures = 0 if urls is not None else failures + 1
                for quality, url in (urls or {}).items():
                    self._maybe_start(quality, url, group, session, fetchers.get(quality), tasks)
                await _wait_event(stop, MIN_MASTER_SPACING - (self.monotonic() - started))
            await self._wait_refresh(stop, self._next_check(failures))

    async def _wait_refresh(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._refresh.wait())]
        try:
            await asyncio.wait(waiters, timeout=max(seconds, 0.0), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _wanting(self) -> bool:
        """Some quality has no worker, or its newest worker asked for a new URL."""
        configured = any(not self.workers[q] for q in self.config.qualities)
        return configured or any(ws and ws[-1].needs_replacement for ws in self.workers.values())

    def _needs_master(self) -> bool:
        if self._refresh.is_set() or self._wanting():
            return True
        max_age = self.provider.url_max_age
        return max_age is not None and any(ws and ws[-1].age >= max_age for ws in self.workers.values())

    def _next_check(self, failures: int) -> float:
        jitter = random.uniform(0.9, 1.1)
        if self._wanting():
            if failures and not self._offline:
                backoff: float = self.config.master_interval * 2.0 ** min(failures - 1, 6)
                return min(backoff, MAX_MASTER_BACKOFF) * jitter
            return self.config.master_interval * jitter
        max_age = self.provider.url_max_age
        if max_age is None:
            return IDLE_CHECK
        return min([max_age - ws[-1].age for ws in self.workers.values() if ws] + [IDLE_CHECK])

    async def _fetch_master(self, session: aiohttp.ClientSession) -> dict[str, str] | None:
        channel = self.config.channel
        try:
            async with asyncio.timeout(self.config.playlist_timeout * 3):
                urls = await self.provider.media_urls(session, self.config.qualities)
        except StreamOffline as exc:
            ERRORS.labels(channel, "all", ErrorKind.OFFLINE).inc()
            if not self._offline:
                logger.info(
                    "%s is offline (%s); checking every %.0f s", channel, exc, self.config.master_interval
                )
            self._offline = True
            return None
        except ProviderError as exc:
            ERRORS.labels(channel, "all", ErrorKind.PROVIDER).inc()
            logger.error("%s provider API answered unexpectedly (not offline): %s", channel, exc)
            return None
        except (FetchError, PlaylistParseError, TimeoutError) as exc:
            ERRORS.labels(channel, "all", ErrorKind.MASTER).inc()
            logger.warning("%s master playlist fetch failed: %s", channel, exc or "timeout")
            return None
        if self._offline:
            logger.info("%s is live again", channel)
        self._offline = False
        for quality in self.config.qualities:
            if quality not in urls:
                logger.warning("%s quality %s is not offered; will look again", channel, quality)
        return urls

    def _maybe_start(
        self,
        quality: str,
        url: str,
        group: asyncio.TaskGroup,
        session: aiohttp.ClientSession,
        fetcher: SegmentFetcher,
        tasks: set[asyncio.Task[None]],
    ) -> None:
        # A quality not configured (a variant's separate audio, `source-audio`) gets its state on demand.
        workers = self.workers.setdefault(quality, [])
        claims = self.claims.setdefault(quality, Claims())
        if workers:
            newest = workers[-1]
            max_age = self.provider.url_max_age
            too_old = max_age is not None and newest.age >= max_age
            if not (newest.needs_replacement or too_old) or newest.url == url:
                newest.needs_replacement = False  # the same URL is a valid answer: keep polling it
                return
        if self._stopping:
            return
        self._next_id += 1
        worker = MediaWorker(
            worker_id=self._next_id,
            quality=quality,
            url=url,
            session=session,
            config=self.config,
            fetcher=fetcher,
            claims=claims,
            events=self,
            now=self.now,
            monotonic=self.monotonic,
        )
        workers.append(worker)
        while len(workers) > MAX_WORKERS_PER_QUALITY:
            workers[0].stop()
            workers.pop(0)
        WORKERS.labels(self.config.channel, quality).set(len(workers))
        logger.info("%s: starting worker %d (%d running)", quality, worker.id, len(workers))
        task = group.create_task(self._run_worker(worker))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _run_worker(self, worker: MediaWorker) -> None:
        try:
            await worker.run()
        except Exception:
            ERRORS.labels(self.config.channel, worker.quality, ErrorKind.WORKER_CRASH).inc()
            logger.exception("%s worker %d crashed; looking for a new URL", worker.quality, worker.id)
        finally:
            workers = self.workers[worker.quality]
            if worker in workers:
                workers.remove(worker)
            WORKERS.labels(self.config.channel, worker.quality).set(len(workers))
            if not workers:
                self._refresh.set()

    def on_content(self, worker: MediaWorker) -> None:
        """Stop every worker of `worker`'s quality older than it (the handover completes)."""
        workers = self.workers[worker.quality]
        if worker not in workers:
            return
        index = workers.index(worker)
        for old in workers[:index]:
            logger.info("%s: worker %d took over from worker %d", worker.quality, worker.id, old.id)
            old.stop()
            workers.remove(old)
        WORKERS.labels(self.config.channel, worker.quality).set(len(workers))

    def on_trouble(self, worker: MediaWorker) -> None:
        """Look for a new URL, if `worker` is the newest of its quality (older ones are being replaced)."""
        workers = self.workers[worker.quality]
        if workers and workers[-1] is worker:
            worker.needs_replacement = True
            self._refresh.set()


class _Fetchers:
    """One SegmentFetcher per quality, made on first use (extra qualities appear with the master)."""

    def __init__(self, make: Callable[[str], SegmentFetcher]) -> None:
        self.make = make
        self._fetchers: dict[str, SegmentFetcher] = {}

    def get(self, quality: str) -> SegmentFetcher:
        fetcher = self._fetchers.get(quality)
        if fetcher is None:
            fetcher = self._fetchers[quality] = self.make(quality)
        return fetcher


async def _wait_event(event: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        return
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass
