"""The backfill loop: passes over every peer hour, newest first, copying what this node lacks.

One pass: refresh the node list (every ~30 s), discover every peer's hours, then for each hour
(newest first, all channels and qualities together) list it on every peer that has it, diff it
against the local hour, create missing tombstones, then fetch missing segments (each from one
peer) with bounded concurrency. An hour's fetches finish before the next older hour starts, so
recent data always lands first. Failures are remembered (retry backoff, hash mismatches, peer
breaker) across passes; with `wait_for_retries`, the pass itself retries until done or out of tries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.backfiller import metrics
from wubloader.backfiller.discovery import discover
from wubloader.backfiller.errors import BadPeerListing, NodeListError
from wubloader.backfiller.health import MismatchMemory, PeerBreaker, RetryMemory, backoff_delay
from wubloader.backfiller.hour_local import copy_tombstones, readable_hours, report_tombstone_limit
from wubloader.backfiller.local_store import LocalHours
from wubloader.backfiller.nodes import select_peers
from wubloader.backfiller.peer_client import ListingCache, PeerClient
from wubloader.backfiller.plan import FetchJob, HourKey, HourPlan, order_hours, plan_hour
from wubloader.backfiller.ratelimit import TokenBucket
from wubloader.backfiller.report import PassResult, record_pass
from wubloader.backfiller.sync_memory import SyncMemory
from wubloader.backfiller.transfer import PassStats, TransferLimits, Transfers, error_kind, pass_threads
from wubloader.runtime.errors import FetchError
from wubloader.runtime.timeparse import now_utc

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from datetime import datetime

    import aiohttp

    from wubloader.backfiller.config import BackfillerConfig
    from wubloader.backfiller.nodes import NodeSource, Peer
    from wubloader.backfiller.peer_client import CachedListing

logger = logging.getLogger(__name__)

NODE_LIST_TIMEOUT = 10.0


class Backfiller:
    """Replicates segments and tombstones from peers into `config.base_dir`.

    `session` is the shared aiohttp client session (runtime.http_client.create_session); `nodes`
    supplies the node list, from which this node (`self_name` or `self_url`) is excluded. `stop`,
    when set, ends `run()` after in-flight fetches finish; cancelling works too (temp files are
    removed). `now` (naive UTC) and `monotonic` are injectable clocks.
    """

    def __init__(
        self,
        config: BackfillerConfig,
        *,
        session: aiohttp.ClientSession,
        nodes: NodeSource,
        self_name: str | None = None,
        self_url: str | None = None,
        stop: asyncio.Event | None = None,
        now: Callable[[], datetime] = now_utc,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.session = session
        self.nodes = nodes
        self.self_name = self_name
        self.self_url = self_url
        self._stop = stop
        self._now = now
        self._monotonic = monotonic
        self.breaker = PeerBreaker(
            threshold=config.breaker_threshold,
            initial=config.breaker_initial,
            maximum=config.breaker_maximum,
            clock=monotonic,
        )
        self.transfers = Transfers(
            base=config.base_dir,
            retry=RetryMemory(initial=config.retry_initial, maximum=config.retry_maximum, clock=monotonic),
            mismatches=MismatchMemory(ttl=config.mismatch_memory, clock=monotonic),
            breaker=self.breaker,
            bucket=TokenBucket(config.max_rate, clock=monotonic) if config.max_rate else None,
            concurrency=config.concurrency,
            limits=TransferLimits(
                network_seconds=config.segment_timeout,
                stall_seconds=config.read_timeout,
                max_bytes=config.max_segment_bytes,
            ),
        )
        self.listings = ListingCache(max_bytes=config.listing_cache_bytes)
        self.local = LocalHours(config.base_dir, max_bytes=config.local_cache_bytes)
        self.in_sync = SyncMemory(
            relist=config.past_hour_relist,
            settle=timedelta(seconds=max(config.recent_cutoff, 60.0)),
            clock=monotonic,
        )
        self.peers: list[Peer] = []
        self._refreshed_at: float | None = None

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early if stop is set."""
        if self._stop is None:
            await asyncio.sleep(seconds)
            return
        try:
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        except TimeoutError:
            pass

    async def refresh_peers(self, *, force: bool = False) -> list[Peer]:
        """Re-read the node list if it is older than `node_refresh_interval`; keep the old one on error."""
        now = self._monotonic()
        due = self._refreshed_at is None or now - self._refreshed_at >= self.config.node_refresh_interval
        if not (force or due):
            return self.peers
        try:
            async with asyncio.timeout(NODE_LIST_TIMEOUT):
                nodes = await self.nodes.nodes()
        except (NodeListError, TimeoutError) as exc:
            metrics.NODE_LIST_ERRORS.inc()
            logger.warning("cannot refresh the node list (keeping %d peers): %s", len(self.peers), exc)
            self._refreshed_at = now
            return self.peers
        self._refreshed_at = now
        peers = select_peers(nodes, self_name=self.self_name, self_url=self.self_url)
        if peers != self.peers:
            logger.info("backfilling from %s", ", ".join(f"{p.name}={p.url}" for p in peers) or "no peers")
            self.peers = peers
            self.transfers.set_clients({p.name: self._client(p) for p in peers})
            self.breaker.forget({p.name for p in peers})
        return self.peers

    def _client(self, peer: Peer) -> PeerClient:
        return PeerClient(
            self.session,
            peer,
            self.listings,
            listing_timeout=self.config.listing_timeout,
            max_listing_names=self.config.max_listing_names,
            max_listing_bytes=self.config.max_listing_bytes,
        )

    async def run(self) -> None:
        """Pass after pass until stopped or cancelled; a crashing pass is logged and retried with backoff."""
        crashes = 0
        while not self._stopping():
            try:
                result = await self.run_once(wait_for_retries=False)
                crashes = 0
                delay = self.config.pass_interval if result.complete else min(self.config.pass_interval, 5.0)
            except Exception:
                crashes += 1
                delay = backoff_delay(crashes, 1.0, 60.0)
                logger.exception("backfill pass crashed (%d in a row); next try in %.0f s", crashes, delay)
            await self._sleep(delay)

    async def run_once(self, *, wait_for_retries: bool = True) -> PassResult:
        """One pass over every peer. With `wait_for_retries`, failed files are retried (with backoff,
        up to `retry_attempts`) before returning, as `--once` needs."""
        # The pass owns its threads: downloads each receive, hash and write one body, and fsyncs
        # run beside them (more at once lets the filesystem batch journal commits).
        with pass_threads(self.config.io_threads) as threads:
            self.transfers.threads = threads
            try:
                return await self._pass(wait_for_retries)
            finally:
                self.transfers.threads = None

    async def _pass(self, wait_for_retries: bool) -> PassResult:
        started = self._monotonic()
        await self.refresh_peers()
        stats = PassStats()
        clients = {p: c for p, c in self.transfers.clients.items() if self.breaker.available(p)}
        paused = set(self.transfers.clients) - set(clients)
        now = self._now()
        not_before = self.config.start.cutoff(now) if self.config.start else None
        holders, failed = await self._discover(clients, not_before, retries=2 if wait_for_retries else 0)
        stats.listing_errors += len(failed) + len(paused)
        stats.failed_peers |= failed | paused
        missing, recent = await self._walk_hours(holders, stats, now)
        if wait_for_retries and missing and not self._stopping():
            missing = await self._retry(missing, stats)
        result = PassResult(
            copied=stats.copied,
            bytes=stats.bytes,
            tombstones=stats.tombstones,
            missing=len(missing),
            deferred_recent=recent,
            hash_mismatches=stats.hash_mismatches,
            listing_errors=stats.listing_errors,
            local_errors=stats.local_errors,
            hours_diffed=stats.hours_diffed,
            hours_unchanged=stats.hours_unchanged,
            failed_peers=tuple(sorted(stats.failed_peers)),
            stopped=self._stopping(),
            seconds=self._monotonic() - started,
        )
        record_pass(result, missing, self.transfers.clients)
        return result

    async def _discover(
        self, clients: dict[str, PeerClient], not_before: datetime | None, *, retries: int
    ) -> tuple[dict[HourKey, list[str]], set[str]]:
        """`discover`, asking peers that failed again up to `retries` times (backoff 1 s, 2 s, …).

        A one-pass run cannot come back later, so a transient error must not fail it outright.
        """
        holders: dict[HourKey, list[str]] = {}
        failed: set[str] = set()
        for attempt in range(retries + 1):
            if attempt:
                await self._sleep(backoff_delay(attempt, 1.0, 8.0))
            found, failed = await discover(
                clients,
                self.transfers.semaphores,
                channels=self.config.channels,
                qualities=self.config.qualities,
                not_before=not_before,
            )
            for key, peers in found.items():
                holders.setdefault(key, []).extend(peers)
            for peer in failed:
                self.breaker.failed(peer)
            clients = {p: c for p, c in clients.items() if p in failed}
            if not failed or self._stopping():
                break
        return {key: sorted(peers) for key, peers in holders.items()}, failed

    async def _walk_hours(
        self, holders: dict[HourKey, list[str]], stats: PassStats, now: datetime
    ) -> tuple[list[FetchJob], int]:
        """Sync every hour, newest first; returns (jobs left missing, segments deferred as too recent)."""
        missing: list[FetchJob] = []
        recent = 0
        groups = order_hours(holders)
        async with asyncio.TaskGroup() as prefetch:
            # The next hour's listings are fetched while this hour's segments download, so a far
            # peer's round trips do not add up hour after hour.
            upcoming = (
                prefetch.create_task(self._list_hours(groups[0], holders, stats, now)) if groups else None
            )
            for index in range(len(groups)):
                assert upcoming is not None
                if self._stopping():
                    upcoming.cancel()
                    break
                current = upcoming
                # A long catch-up pass still follows the node list: a removed peer stops being used
                # (its jobs fall back to others); a new one joins from the next pass.
                await self.refresh_peers()
                await asyncio.wait({current})
                if index + 1 < len(groups):
                    upcoming = prefetch.create_task(self._list_hours(groups[index + 1], holders, stats, now))
                copied_before = stats.copied
                left, deferred = await self._sync_hours(current, holders, stats, now)
                missing.extend(left)
                recent += deferred
                if stats.copied > copied_before:
                    # A catch-up pass over days of hours can run long: say how far it has got.
                    logger.info(
                        "backfilled hour %s: %d segments copied so far this pass (%.1f MB), %d hours to go",
                        groups[index][0].hour,
                        stats.copied,
                        stats.bytes / 1e6,
                        len(groups) - index - 1,
                    )
        return missing, recent

    async def _list_hours(
        self, group: Sequence[HourKey], holders: dict[HourKey, list[str]], stats: PassStats, now: datetime
    ) -> dict[HourKey, dict[str, CachedListing]]:
        """Every peer's listing of every key in `group` not recently found in sync, concurrently.

        Failures are counted and skipped (that peer's listing is missing from the result).
        """
        skipped = [key for key in group if self.in_sync.recently_in_sync(key, now)]
        stats.hours_unchanged += len(skipped)
        listings: dict[HourKey, dict[str, CachedListing]] = {key: {} for key in group if key not in skipped}
        clients = self.transfers.clients

        async def one(key: HourKey, peer: str) -> None:
            try:
                async with self.transfers.semaphores[peer]:
                    listings[key][peer] = await clients[peer].hour_listing(key)
            except (FetchError, BadPeerListing) as exc:
                logger.warning(
                    "cannot list %s/%s/%s on %s: %s", key.channel, key.quality, key.hour, peer, exc
                )
                kind = error_kind(exc) if isinstance(exc, FetchError) else "bad_listing"
                metrics.ERRORS.labels(peer, kind).inc()
                stats.listing_errors += 1
                stats.failed_peers.add(peer)

        async with asyncio.TaskGroup() as group_tasks:
            for key in listings:
                for peer in holders[key]:
                    if peer in clients:
                        group_tasks.create_task(one(key, peer))
        return listings

    async def _sync_hours(
        self,
        listed: Awaitable[dict[HourKey, dict[str, CachedListing]]],
        holders: dict[HourKey, list[str]],
        stats: PassStats,
        now: datetime,
    ) -> tuple[list[FetchJob], int]:
        """Bring one hour (all its channels and qualities) in line, given its (prefetched) peer
        listings; returns (jobs left missing, segments deferred as too recent)."""
        listings = await listed
        group = list(listings)
        if not group:
            return [], 0
        local = readable_hours(await self.local.read_many(group), self.local, stats)
        cutoff = now - timedelta(seconds=self.config.recent_cutoff)
        plans: list[tuple[HourPlan, dict[str, CachedListing]]] = []
        for key in local:
            entries = listings[key]
            version = local[key].version
            signature = (version, frozenset((p, e.digest) for p, e in entries.items()))
            complete_listing = len(entries) == len(holders[key])
            if version is not None and self.in_sync.unchanged(key, signature):
                stats.hours_unchanged += 1
                continue
            stats.hours_diffed += 1
            recent_limit = cutoff if self.config.waits_for_downloader(key.channel) else None
            plan = plan_hour(
                key,
                local[key].listing,
                {p: e.listing for p, e in entries.items()},
                recent_limit=recent_limit,
                max_tombstones=self.config.max_tombstones_per_hour,
            )
            if plan.skipped.tombstone_limit:
                report_tombstone_limit(plan, entries, self.config.max_tombstones_per_hour)
            if plan.in_sync and version is not None and complete_listing:
                self.in_sync.remember(key, signature)
            plans.append((plan, entries))
        for plan, entries in plans:
            if plan.tombstones:
                await copy_tombstones(self.local, plan, entries, stats)
        jobs = sorted((job for plan, _ in plans for job in plan.fetches), key=lambda j: j.start, reverse=True)
        left = await self._fetch_all(jobs, stats) if jobs else []
        if jobs:
            await self.local.sync_directories([plan.key for plan, _ in plans if plan.fetches])
        return left, sum(plan.skipped.recent for plan, _ in plans)

    async def _fetch_all(self, jobs: Sequence[FetchJob], stats: PassStats) -> list[FetchJob]:
        """Run the due jobs in order, at most `concurrency` per peer; returns those not done."""
        left: list[FetchJob] = []
        now = self._monotonic()
        runnable: list[FetchJob] = []
        for job in jobs:
            ready = self.transfers.ready_at(job)
            (runnable if ready is not None and ready <= now else left).append(job)
        # Download slots plus writer threads: a transfer's fsync and rename overlap the next download.
        downloads = self.config.concurrency * max(1, len(self.transfers.clients))
        slots = asyncio.Semaphore(downloads + self.config.io_threads)

        async def one(job: FetchJob) -> None:
            try:
                if not await self.transfers.run(job, stats):
                    left.append(job)
            finally:
                slots.release()

        async with asyncio.TaskGroup() as group:
            for index, job in enumerate(runnable):
                if self._stopping():
                    left.extend(runnable[index:])
                    break
                await slots.acquire()
                group.create_task(one(job))
        return left

    async def _retry(self, missing: list[FetchJob], stats: PassStats) -> list[FetchJob]:
        """Retry failed jobs when their backoff (and their peers' breakers) allow, up to `retry_attempts`."""
        given_up: list[FetchJob] = []
        pending = missing
        retry = self.transfers.retry
        while pending and not self._stopping():
            waiting = []
            for job in pending:
                ready = self.transfers.ready_at(job)
                if ready is None or retry.failures(job.path_id) >= self.config.retry_attempts:
                    given_up.append(job)
                else:
                    waiting.append((ready, job))
            pending = [job for _, job in waiting]
            if not waiting:
                break
            first = min(ready for ready, _ in waiting)
            await self._sleep(max(0.0, first - self._monotonic()))
            now = self._monotonic()
            due = sorted((job for ready, job in waiting if ready <= now), key=lambda j: j.start, reverse=True)
            later = [job for ready, job in waiting if ready > now]
            pending = (await self._fetch_all(due, stats)) + later
        return given_up + pending
