"""Copying one segment: pick a peer that has it, stream it into a temp name, verify, fsync, rename.

Falls back to the next peer when one fails; records the outcome in the retry memory, the
mismatch memory, the peer circuit-breaker and the metrics. Never raises for a peer's fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from wubloader.backfiller import metrics
from wubloader.backfiller.errors import PeerPaused
from wubloader.backfiller.segment_download import PeerConnections, SegmentDownload
from wubloader.runtime.errors import FetchError, FetchHTTPError, FetchTimeout, FetchTooLarge
from wubloader.store.errors import HashMismatch
from wubloader.store.writer import SegmentWriter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from concurrent.futures import Executor
    from pathlib import Path

    from wubloader.backfiller.health import MismatchMemory, PeerBreaker, RetryMemory
    from wubloader.backfiller.peer_client import PeerClient
    from wubloader.backfiller.plan import FetchJob
    from wubloader.backfiller.ratelimit import TokenBucket

logger = logging.getLogger(__name__)
R = TypeVar("R")


@dataclass(slots=True)
class PassStats:
    """What one pass did; mutated by the transfers of that pass."""

    copied: int = 0
    bytes: int = 0
    tombstones: int = 0
    hash_mismatches: int = 0
    listing_errors: int = 0
    local_errors: int = 0
    hours_diffed: int = 0
    hours_unchanged: int = 0
    failed_peers: set[str] = field(default_factory=set)


class Outcome(enum.StrEnum):
    """How one attempt at one peer ended."""

    COPIED = "copied"
    FAILED = "failed"
    PAUSED = "paused"
    LOCAL_ERROR = "local_error"


def error_kind(exc: FetchError) -> str:
    """A bounded label for a fetch failure."""
    if isinstance(exc, FetchHTTPError):
        return "not_found" if exc.status == 404 else "http"
    if isinstance(exc, FetchTimeout):
        return "timeout"
    return "connection"


def trips_breaker(exc: FetchError) -> bool:
    """Whether the failure says the peer is unwell (unlike a 404 for one file it no longer has)."""
    return not isinstance(exc, FetchHTTPError) or exc.retryable


# Download threads at most: one per download in flight, which the per-peer semaphores already bound
# (concurrency x peers); this only caps a misconfiguration.
MAX_DOWNLOAD_THREADS = 256


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferLimits:
    """Bounds on one transfer: `network_seconds` in all, `stall_seconds` without PROGRESS_BYTES new
    bytes (both excluding rate-limit waits and local writes), and the largest body for a duration."""

    network_seconds: float
    stall_seconds: float
    max_bytes: Callable[[float], int]


@dataclass(frozen=True, slots=True)
class PassThreads:
    """What a pass's transfers run on: download threads (each receives, hashes and writes one body),
    writer threads (fsync and rename, behind the next download) and the peers' idle connections."""

    downloads: Executor
    writes: Executor
    connections: PeerConnections


@contextlib.contextmanager
def pass_threads(io_threads: int) -> Iterator[PassThreads]:
    """The threads and connections of one pass, all stopped and closed when it ends."""
    connections = PeerConnections()
    try:
        with (
            ThreadPoolExecutor(MAX_DOWNLOAD_THREADS, thread_name_prefix="backfill-get") as downloads,
            ThreadPoolExecutor(io_threads, thread_name_prefix="backfill-io") as writes,
        ):
            yield PassThreads(downloads=downloads, writes=writes, connections=connections)
    finally:
        connections.close()


async def fetch_segment(
    client: PeerClient,
    job: FetchJob,
    base: Path,
    *,
    limits: TransferLimits,
    bucket: TokenBucket | None,
    network: asyncio.Semaphore,
    threads: PassThreads,
    admit: Callable[[], bool] = lambda: True,
) -> int:
    """Copy `job` from `client`'s peer into the store; returns the bytes written (0 if already present).

    The bytes stream to a `temp` name and are renamed to the peer's exact name only after the hash
    matched and the file was fsync'd. `network` (the peer's semaphore) is held only while the body
    is downloaded (in a download thread): the fsync and rename then run in a writer thread while
    the next download starts. `admit` is asked once a download slot is free; if it says no (the
    peer was paused meanwhile) PeerPaused is raised before any request.
    Raises FetchError (FetchTooLarge past `limits.max_bytes`, FetchTimeout past its deadlines),
    HashMismatch (nothing kept), OSError or PeerPaused.
    """
    sink = _Sink(base, job)
    try:
        async with network:
            if not admit():
                raise PeerPaused(f"{client.peer.name} was paused")
            download = SegmentDownload(
                threads.connections,
                client.origin,
                client.segment_path(job.key, job.name),
                network_seconds=limits.network_seconds,
                stall_seconds=limits.stall_seconds,
                max_bytes=limits.max_bytes(float(job.duration_text)),
                throttle=None if bucket is None else bucket.consume,
                loop=asyncio.get_running_loop(),
            )
            if not await _in_thread(threads.downloads, sink.receive, download, on_cancel=download.abort):
                return 0  # the downloader or an earlier transfer got there first
        await _in_thread(threads.writes, sink.finish)
        return sink.size
    finally:
        sink.abort()


class _Sink:
    """The local side of one transfer; every method but `abort` runs in a worker thread.

    The temp file is created in the thread too: creating a file can block for milliseconds on the
    filesystem journal while other transfers fsync, which must not stall the event loop.
    """

    def __init__(self, base: Path, job: FetchJob) -> None:
        self.base = base
        self.job = job
        self.writer: SegmentWriter | None = None

    @property
    def size(self) -> int:
        return 0 if self.writer is None else self.writer.size

    def receive(self, download: SegmentDownload) -> bool:
        """Run `download` into the temp file, unless the segment is there already (False).

        The check runs here, not on the event loop: a `stat` in a directory other threads are
        creating and renaming files in can wait a millisecond, and the loop would wait with it.
        """
        job = self.job
        if self.base.joinpath(job.key.channel, job.key.quality, job.key.hour, job.name).exists():
            return False
        download.run(self.write)
        return True

    def write(self, data: memoryview) -> None:
        self._writer().write(data)

    def finish(self) -> None:
        # The hour directory is fsync'd once after the hour's batch (Backfiller._sync_hours).
        self._writer().commit(self.job.type, self.job.hash, sync_dir=False)

    def _writer(self) -> SegmentWriter:
        if self.writer is None:
            key = self.job.key
            self.writer = SegmentWriter(
                self.base, key.channel, key.quality, self.job.start, self.job.duration_text
            )
        return self.writer

    def abort(self) -> None:
        """Remove the temp file unless the segment was committed (safe to call always)."""
        if self.writer is not None and self.writer.final_path is None:
            self.writer.abort()


async def _in_thread(
    executor: Executor,
    func: Callable[..., R],
    *args: object,
    on_cancel: Callable[[], None] | None = None,
) -> R:
    """Run `func(*args)` in a worker thread; if cancelled, call `on_cancel` (to stop it early) and
    wait for it before re-raising, so the caller's clean-up (closing and removing the temp file)
    never races a write or rename."""
    future = asyncio.get_running_loop().run_in_executor(executor, func, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if on_cancel is not None:
            on_cancel()
        with contextlib.suppress(Exception):
            await future
        raise


class Transfers:
    """Runs fetch jobs against the current peers, with per-peer concurrency and shared failure memory."""

    def __init__(
        self,
        *,
        base: Path,
        retry: RetryMemory,
        mismatches: MismatchMemory,
        breaker: PeerBreaker,
        bucket: TokenBucket | None,
        concurrency: int,
        limits: TransferLimits,
    ) -> None:
        self.base = base
        self.limits = limits
        self.retry = retry
        self.mismatches = mismatches
        self.breaker = breaker
        self.bucket = bucket
        self.concurrency = concurrency
        self.threads: PassThreads | None = None  # set for the duration of a pass by its owner
        self.clients: dict[str, PeerClient] = {}
        self.semaphores: dict[str, asyncio.Semaphore] = {}
        self._busy: dict[str, int] = {}

    def set_clients(self, clients: dict[str, PeerClient]) -> None:
        """Replace the peer set (after a node-list refresh); semaphores of kept peers survive."""
        self.clients = clients
        self.semaphores = {p: self.semaphores.get(p) or asyncio.Semaphore(self.concurrency) for p in clients}
        self._busy = {p: self._busy.get(p, 0) for p in clients}

    def usable_peers(self, job: FetchJob) -> list[str]:
        """Peers that list the job's file, are known, and have not served it with a wrong hash."""
        return [p for p in job.peers if p in self.clients and not self.mismatches.is_bad(p, job.path_id)]

    def ready_at(self, job: FetchJob) -> float | None:
        """When the job may next be tried (monotonic), or None if no peer can ever serve it now."""
        peers = self.usable_peers(job)
        if not peers:
            return None
        return max(self.retry.ready_at(job.path_id), min(self.breaker.open_until(p) for p in peers))

    async def run(self, job: FetchJob, stats: PassStats) -> bool:
        """Try the job's peers, least busy first, until one delivers; True if the file is now present.

        Only real attempts count towards the file's retry backoff: peers paused by their breaker
        (before or while the job waited) do not.
        """
        peers = [p for p in self.usable_peers(job) if self.breaker.available(p)]
        peers.sort(key=lambda p: self._busy.get(p, 0))
        attempted = False
        for peer in peers:
            outcome = await self._try_peer(peer, job, stats)
            if outcome is Outcome.COPIED:
                self.retry.succeeded(job.path_id)
                return True
            attempted = attempted or outcome is not Outcome.PAUSED
            if outcome is Outcome.LOCAL_ERROR:  # another peer will not help
                break
        if attempted:
            self.retry.failed(job.path_id)
        return False

    async def _try_peer(self, peer: str, job: FetchJob, stats: PassStats) -> Outcome:
        client = self.clients[peer]
        assert self.threads is not None, "transfers run inside a pass (Backfiller.run_once)"
        self._busy[peer] = self._busy.get(peer, 0) + 1
        try:
            size = await fetch_segment(
                client,
                job,
                self.base,
                limits=self.limits,
                bucket=self.bucket,
                network=self.semaphores[peer],
                threads=self.threads,
                admit=lambda: self.breaker.available(peer),
            )
        except PeerPaused:
            return Outcome.PAUSED
        except HashMismatch as exc:
            logger.warning(
                "%s served %s with the wrong hash (%s); not refetching it there", peer, job.path_id, exc
            )
            self.mismatches.remember(peer, job.path_id)
            metrics.HASH_MISMATCHES.labels(peer).inc()
            stats.hash_mismatches += 1
            stats.failed_peers.add(peer)
            return Outcome.FAILED
        except FetchTooLarge as exc:
            # Like a wrong hash: the peer's bytes for this name cannot be right; do not ask again.
            logger.warning("%s: %s; not refetching it there", peer, exc)
            self.mismatches.remember(peer, job.path_id)
            metrics.SKIPPED.labels(peer, "too_large").inc()
            stats.failed_peers.add(peer)
            return Outcome.FAILED
        except FetchError as exc:
            logger.info("fetching %s from %s failed: %s", job.path_id, peer, exc)
            metrics.ERRORS.labels(peer, error_kind(exc)).inc()
            stats.failed_peers.add(peer)
            if trips_breaker(exc) and self.breaker.failed(peer):
                logger.warning("%s keeps failing; pausing it until it recovers", peer)
            return Outcome.FAILED
        except OSError as exc:
            logger.error("cannot write %s locally: %s", job.path_id, exc)
            metrics.ERRORS.labels(peer, "local_io").inc()
            stats.local_errors += 1
            return Outcome.LOCAL_ERROR
        finally:
            self._busy[peer] = self._busy.get(peer, 1) - 1
        self.breaker.succeeded(peer)
        if size:
            metrics.SEGMENTS.labels(peer).inc()
            metrics.BYTES.labels(peer).inc(size)
            stats.copied += 1
            stats.bytes += size
        return Outcome.COPIED
