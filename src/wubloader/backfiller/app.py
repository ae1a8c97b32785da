"""`wubloader backfiller`: parse flags into a BackfillerConfig, build the node source, run until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.backfiller.backfiller import Backfiller
from wubloader.backfiller.config import MEBIBYTE, BackfillerConfig, parse_rate, parse_start
from wubloader.backfiller.nodes import (
    CombinedNodeSource,
    DatabaseNodeSource,
    FileNodeSource,
    NodeSource,
    StaticNodeSource,
    normalize_url,
    peer_from_url,
)
from wubloader.db.database import Database
from wubloader.runtime.backdoor import start_backdoor
from wubloader.runtime.config import (
    add_common_arguments,
    backdoor_config,
    cli_type,
    parse_amount,
    parse_csv,
    parse_duration_seconds,
)
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.health import Check, Health
from wubloader.runtime.http_client import create_session
from wubloader.runtime.logsetup import setup_logging
from wubloader.runtime.metrics import LOOPBACK, start_metrics_server, watch_store_space
from wubloader.runtime.serve import run_component
from wubloader.store.writer import TempSweeper, writable_check

if TYPE_CHECKING:
    import argparse

    from wubloader.runtime.config import EnvArgumentParser

logger = logging.getLogger(__name__)

EXIT_INCOMPLETE = 1
MEGABIT = 1_000_000


def configure_parser(parser: EnvArgumentParser) -> None:
    """The backfiller's flags (docs/backfiller.md) plus the common ones."""
    add = parser.add_argument
    add("--base-dir", type=Path, required=True, help="the local segment store")
    add("--channels", type=parse_csv, default=(), help="channels to copy, comma-separated (default: all)")
    add("--qualities", type=parse_csv, default=(), help="qualities to copy, comma-separated (default: all)")
    add("--nodes", type=parse_csv, default=(), metavar="URL,…", help="peer restreamer URLs")
    add("--node-file", type=Path, default=None, help="file of 'NAME URL' or 'URL' lines, re-read every ~30 s")
    add("--db", default=None, metavar="URL", help="read peers from this database's nodes table (refreshed)")
    add("--start", type=cli_type(parse_start), default=None, metavar="HOURS|TIMESTAMP", help="how far back")
    add("--recent-cutoff", type=float, default=120.0, metavar="S", help="skip segments younger than this")
    add("--once", action="store_true", help="one pass; exit 0 only if nothing is left missing")
    add("--concurrency", type=int, default=5, help="simultaneous downloads per peer (default 5)")
    add("--max-rate", type=cli_type(parse_rate), default=None, metavar="MB/s", help="total download cap")
    add("--node-name", default=None, help="this node's name, excluded from the node list")
    add("--self-url", default=None, help="this node's own URL, excluded from the node list")
    add("--pass-interval", type=float, default=30.0, metavar="S", help="pause between passes (default 30)")
    add("--retry-attempts", type=int, default=5, help="tries per file within a --once pass (default 5)")
    _add_bounds(parser)
    add_common_arguments(parser)


def _add_bounds(parser: EnvArgumentParser) -> None:
    """Flags bounding what a hostile or broken peer can cost (time, disk, memory)."""
    add = parser.add_argument
    seconds, amount = cli_type(parse_duration_seconds), cli_type(parse_amount)
    add("--segment-timeout", type=seconds, default=120.0, metavar="S", help="network time per segment")
    add("--read-timeout", type=seconds, default=20.0, metavar="S", help="fail after S s without 64 KiB")
    add("--max-bitrate", type=amount, default=100.0, metavar="MBIT/S", help="body cap: x duration + 2 MiB")
    add("--max-listing-names", type=int, default=50_000, metavar="N", help="names per peer listing")
    add("--listing-cache-mb", type=amount, default=64.0, metavar="MIB", help="memory for peer listings")
    add("--local-cache-mb", type=amount, default=64.0, metavar="MIB", help="memory for local listings")
    add("--max-tombstones-per-hour", type=int, default=10_000, metavar="N", help="per hour directory")


def config_from_args(args: argparse.Namespace) -> BackfillerConfig:
    """The config record; raises RuntimeConfigError for unusable values."""
    return BackfillerConfig(
        base_dir=args.base_dir,
        channels=args.channels,
        qualities=args.qualities,
        start=args.start,
        recent_cutoff=args.recent_cutoff,
        concurrency=args.concurrency,
        max_rate=args.max_rate or None,
        pass_interval=args.pass_interval,
        retry_attempts=args.retry_attempts,
        segment_timeout=args.segment_timeout,
        read_timeout=args.read_timeout,
        max_bitrate=args.max_bitrate * MEGABIT,
        max_listing_names=args.max_listing_names,
        listing_cache_bytes=int(args.listing_cache_mb * MEBIBYTE),
        local_cache_bytes=int(args.local_cache_mb * MEBIBYTE),
        max_tombstones_per_hour=args.max_tombstones_per_hour,
    )


def node_source_from_args(args: argparse.Namespace) -> NodeSource:
    """Static `--nodes`, then `--node-file`, then the `--db` nodes table (later ones override by name)."""
    sources: list[NodeSource] = []
    if args.nodes:
        sources.append(StaticNodeSource(peers=tuple(peer_from_url(url) for url in args.nodes)))
    if args.node_file is not None:
        sources.append(FileNodeSource(path=args.node_file))
    if args.db:
        sources.append(DatabaseNodeSource(Database(args.db)))
    if not sources:
        raise RuntimeConfigError("no peers: give --nodes URL,…, --node-file FILE or --db URL")
    if args.self_url:
        normalize_url(args.self_url)  # fail at start-up, not on every refresh
    return sources[0] if len(sources) == 1 else CombinedNodeSource(sources=tuple(sources))


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Run the backfiller (one pass with --once) until `stop`; returns the exit code."""
    config = config_from_args(args)
    nodes = node_source_from_args(args)
    sweeper = TempSweeper(config.base_dir, list(config.channels) or None)
    await sweeper.sweep()
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(create_session(limit_per_host=config.concurrency + 2))
        backfiller = Backfiller(
            config, session=session, nodes=nodes, self_name=args.node_name, self_url=args.self_url, stop=stop
        )
        if args.metrics_port is not None:
            health = Health(readiness_checks(args, config, stack), stop=stop)
            watch_store_space(config.base_dir)
            server = await start_metrics_server(
                args.metrics_host or LOOPBACK, args.metrics_port, health=health
            )
            stack.push_async_callback(server.close)
        backdoor = await start_backdoor(backdoor_config(args), {"backfiller": backfiller, "config": config})
        if backdoor is not None:
            stack.push_async_callback(backdoor.close)
        if args.once:
            result = await backfiller.run_once()
            return 0 if result.complete else EXIT_INCOMPLETE
        async with asyncio.TaskGroup() as group:
            group.create_task(sweeper.run(stop))  # leftovers are removed while running, too
            await run_draining(backfiller, stop, config.drain_timeout)
    return 0


def readiness_checks(
    args: argparse.Namespace, config: BackfillerConfig, stack: contextlib.AsyncExitStack
) -> dict[str, Check]:
    """The store is writable and, with `--db`, the nodes table's database answers (through a
    connection of its own, closed with `stack`)."""
    checks = {"store": writable_check(config.base_dir)}
    if args.db:
        database = Database(args.db, pool_size=1)
        stack.callback(database.close)
        checks["database"] = database.check_ready
    return checks


async def run_draining(backfiller: Backfiller, stop: asyncio.Event, drain_timeout: float) -> None:
    """`backfiller.run()` until `stop`; in-flight fetches then get `drain_timeout` s before cancellation."""
    async with asyncio.TaskGroup() as group:
        task = group.create_task(backfiller.run())
        stopped = group.create_task(stop.wait())
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=drain_timeout)
            if not done:
                logger.warning(
                    "in-flight fetches did not finish within %.0f s; abandoning them", drain_timeout
                )
                task.cancel()
        stopped.cancel()


def run(args: argparse.Namespace) -> int:
    """CLI entry point: 0 after a graceful stop; with --once, 0 only if nothing is left missing."""
    setup_logging(args.log_level)

    async def main(stop: asyncio.Event) -> int:
        return await serve(args, stop)

    return run_component(main)
