"""The restreamer service: builds the aiohttp app (routes, error mapping, CORS, metrics) and runs it.

`create_app(config)` is what `wubloader restreamer` serves and what `wubloader node` mounts in-process.
Route groups are added in ROUTE_GROUPS order; each routes module exposes `add_routes(app)`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.hls.playlist import ENTRY_CACHE_BYTES, EntryCache
from wubloader.restreamer import (
    openapi,
    routes_coverage,
    routes_cut,
    routes_files,
    routes_images,
    routes_playlist,
    routes_segments,
    routes_thumbnail,
)
from wubloader.restreamer.config import MEBIBYTE, RestreamerConfig
from wubloader.restreamer.errors import cors_headers, error_middleware, quiet_malformed_request_logs
from wubloader.restreamer.listing_cache import HourListingCache
from wubloader.restreamer.media_slots import MediaSlots, OutputPace
from wubloader.restreamer.openapi import RouteDoc, document_route
from wubloader.restreamer.peaks_cache import PeaksCache
from wubloader.restreamer.peaks_warmer import PeaksWarmer, WarmSettings, warming_context
from wubloader.restreamer.segment_file import PATH_CACHE_BYTES
from wubloader.restreamer.segment_lane import SegmentLane, lane_allowed
from wubloader.restreamer.state import STATE, RestreamerState
from wubloader.runtime.backdoor import start_backdoor
from wubloader.runtime.config import (
    add_common_arguments,
    backdoor_config,
    cli_type,
    parse_amount,
    parse_csv,
    parse_duration_seconds,
    parse_port,
)
from wubloader.runtime.fast_lane import LANE
from wubloader.runtime.health import HEALTH_ROUTES, Check, Health, add_health_routes
from wubloader.runtime.logsetup import setup_logging
from wubloader.runtime.metrics import (
    RequestRecorder,
    add_metrics_route,
    request_metrics_middleware,
    serve_metrics,
    watch_store_space,
)
from wubloader.runtime.serve import run_component, serve_app
from wubloader.runtime.timeparse import now_utc
from wubloader.runtime.workers import WorkerPool
from wubloader.store.selection import INDEX_CACHE_BYTES, SegmentIndex
from wubloader.store.writer import writable_check

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from wubloader.db.database import Database
    from wubloader.runtime.config import BackdoorConfig, EnvArgumentParser

__all__ = ["RestreamerConfig", "configure_parser", "create_app", "run"]

SERVICE = "restreamer"
ROUTE_GROUPS = (
    routes_files,
    routes_segments,
    routes_playlist,
    routes_images,
    routes_thumbnail,
    routes_cut,
    routes_coverage,
    openapi,
)


def create_app(
    config: RestreamerConfig,
    index: SegmentIndex | None = None,
    *,
    now: Callable[[], datetime] = now_utc,
    replication: WorkerPool | None = None,
    templates_db: Database | None = None,
    health: Health | None = None,
) -> web.Application:
    """The restreamer app over `config.base_dir`.

    `index` may be shared with other components of the same process (one per store); `now` returns
    naive UTC and decides whether a range lies in the past (ENDLIST). `replication` is the pool for
    the `/files` routes' directory reads; without one the app makes its own and shuts it on cleanup.
    `templates_db` (the events database) lets `/thumbnail` compose templates. `health` is what
    `/readyz` checks (default: the store is writable).
    """
    recorder = RequestRecorder(SERVICE)
    metrics = request_metrics_middleware(SERVICE, recorder=recorder)
    app = web.Application(middlewares=[metrics, error_middleware])
    if replication is None:
        replication = WorkerPool("replication", config.replication_threads)
        app.on_cleanup.append(lambda _app: _shutdown(replication))
    if index is None:
        index = SegmentIndex(config.base_dir, max_bytes=config.index_cache_bytes)
    resolver = RestreamerState.resolver_for(config)
    media = MediaSlots(jobs=config.max_media_jobs, queue=config.max_media_queue, wait=config.media_time_limit)
    state = RestreamerState(
        config=config,
        index=index,
        now=now,
        resolver=resolver,
        replication=replication,
        listings=HourListingCache(pool=replication, max_bytes=config.files_cache_bytes),
        playback=asyncio.Semaphore(config.max_playlist_jobs),
        pace=OutputPace(config.max_media_rate),
        media=media,
        entries=EntryCache(config.playlist_cache_bytes),
        peaks=PeaksCache(
            index,
            max_bytes=config.peaks_cache_bytes,
            time_limit=config.media_time_limit,
            slot=media.hold,
            confine=functools.partial(resolver.confine, files=True),
        ),
    )
    app[STATE] = state
    if config.fast_lane and lane_allowed():
        app[LANE] = SegmentLane(resolver, recorder)
    warmer = PeaksWarmer(config.base_dir, state.peaks, WarmSettings(hours=config.warm_peaks_hours), now)
    app.cleanup_ctx.append(warming_context(warmer))
    if templates_db is not None:
        app[routes_thumbnail.TEMPLATE_DB] = templates_db
    app.on_response_prepare.append(cors_headers)
    for group in ROUTE_GROUPS:
        group.add_routes(app)
    add_metrics_route(app)
    document_route(
        app, "/metrics", RouteDoc(summary="Prometheus metrics", content_type="text/plain", errors=())
    )
    add_health_routes(app, health or Health(store_checks(config)))
    for path in HEALTH_ROUTES:
        document_route(app, path, HEALTH_DOCS[path])
    return app


HEALTH_DOCS = {
    "/healthz": RouteDoc(summary="Alive: the process answers", content_type="application/json", errors=()),
    "/readyz": RouteDoc(
        summary="Ready: the store is writable and the server is not draining",
        content_type="application/json",
        errors=(),
        extra_statuses={503: "not ready; the JSON body's `reason` says why"},
    ),
}


def store_checks(config: RestreamerConfig) -> dict[str, Check]:
    """The restreamer is ready when its store is writable. The optional templates database is not
    checked: segments, playlists and cuts are served without it."""
    return {"store": writable_check(config.base_dir)}


async def _shutdown(pool: WorkerPool) -> None:
    pool.shutdown()


def configure_parser(parser: EnvArgumentParser) -> None:
    """`wubloader restreamer --base-dir DIR [--host 127.0.0.1] [--port 8000]` plus the common flags."""
    parser.add_argument("--base-dir", type=Path, required=True, help="the segment store directory")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=cli_type(parse_port), default=8000, help="port (default 8000)")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=20.0,
        help="seconds in-flight requests may take to finish after SIGTERM (default 20)",
    )
    add_limit_arguments(parser)
    parser.add_argument(
        "--nodes", type=parse_csv, default=(), metavar="URL,…", help="peers shown on the /coverage page"
    )
    parser.add_argument(
        "--db", default=None, metavar="URL", help="database: thumbnail templates, nodes on /coverage"
    )
    add_common_arguments(parser)


def add_limit_arguments(parser: EnvArgumentParser) -> None:
    """The restreamer's load limits (shared with `wubloader node`); see docs/restreamer.md."""
    add = parser.add_argument
    duration = cli_type(parse_duration_seconds)
    day = 24 * 3600.0
    add("--max-range", type=duration, default=day, metavar="DURATION", help="longest playlist range (24h)")
    add("--max-cut", type=duration, default=day, metavar="DURATION", help="longest cut, all ranges (24h)")
    add("--max-media-jobs", type=int, default=4, metavar="N", help="cuts/waveforms/frames at once (4)")
    add("--max-media-queue", type=int, default=8, metavar="N", help="media requests that may wait (8)")
    add("--max-playlist-jobs", type=int, default=4, metavar="N", help="playlists rendered at once (4)")
    add("--max-media-rate", type=float, default=50.0, metavar="MB/s", help="cut output, all cuts (50; 0=off)")
    add("--idle-timeout", type=duration, default=60.0, metavar="DURATION", help="idle connection limit (60s)")
    send_help = "abort a connection whose client reads nothing this long (60s; 0=never)"
    add("--send-timeout", type=duration, default=60.0, metavar="DURATION", help=send_help)
    add("--max-connections", type=int, default=None, metavar="N", help="open connections (fd limit / 2)")
    mib = cli_type(parse_amount)
    index_mib = INDEX_CACHE_BYTES // MEBIBYTE
    index_help = f"memory for indexed hours ({index_mib})"
    add("--index-cache-mb", type=mib, default=float(index_mib), metavar="MIB", help=index_help)
    add("--files-cache-mb", type=mib, default=64.0, metavar="MIB", help="memory for /files listings (64)")
    add("--peaks-cache-mb", type=mib, default=64.0, metavar="MIB", help="memory for waveform peaks (64)")
    lines_mib, paths_mib = ENTRY_CACHE_BYTES // MEBIBYTE, PATH_CACHE_BYTES // MEBIBYTE
    lines_help, paths_help = (
        f"memory for playlist lines ({lines_mib})",
        f"memory for segment paths ({paths_mib})",
    )
    add("--playlist-cache-mb", type=mib, default=float(lines_mib), metavar="MIB", help=lines_help)
    add("--paths-cache-mb", type=mib, default=float(paths_mib), metavar="MIB", help=paths_help)
    add("--warm-peaks-hours", type=int, default=3, metavar="N", help="recent hours' peaks decoded ahead (3)")
    lane_help = "plain segment GETs skip aiohttp (default on; off: all requests through aiohttp)"
    add("--fast-lane", action=argparse.BooleanOptionalAction, default=True, help=lane_help)


def config_from_args(args: argparse.Namespace) -> RestreamerConfig:
    """The restreamer config from `configure_parser`'s flags (or the node's, which include them)."""
    return RestreamerConfig(
        base_dir=args.base_dir,
        host=args.host,
        port=args.port,
        drain_timeout=args.drain_timeout,
        max_range=timedelta(seconds=args.max_range),
        max_cut_range=timedelta(seconds=args.max_cut),
        max_media_jobs=args.max_media_jobs,
        max_media_queue=args.max_media_queue,
        max_playlist_jobs=args.max_playlist_jobs,
        max_media_rate=args.max_media_rate * 1e6 or None,
        idle_timeout=args.idle_timeout,
        send_timeout=args.send_timeout,
        max_connections=args.max_connections,
        index_cache_bytes=int(args.index_cache_mb * MEBIBYTE),
        files_cache_bytes=int(args.files_cache_mb * MEBIBYTE),
        peaks_cache_bytes=int(args.peaks_cache_mb * MEBIBYTE),
        playlist_cache_bytes=int(args.playlist_cache_mb * MEBIBYTE),
        paths_cache_bytes=int(args.paths_cache_mb * MEBIBYTE),
        warm_peaks_hours=args.warm_peaks_hours,
        fast_lane=args.fast_lane,
        nodes=tuple(args.nodes),
        db_url=args.db,
    )


async def serve(
    config: RestreamerConfig,
    stop: asyncio.Event,
    *,
    metrics_port: int | None = None,
    metrics_host: str | None = None,
    backdoor: BackdoorConfig | None = None,
    templates_db: Database | None = None,
) -> None:
    """Serve until `stop` is set, then drain in-flight requests (and stop the metrics server, if any).

    With `backdoor`, a debug console sees `config` and `app`.
    """
    health = Health(store_checks(config), stop=stop)
    watch_store_space(config.base_dir)
    app = create_app(config, templates_db=templates_db, health=health)
    console = await start_backdoor(backdoor, {"config": config, "app": app}) if backdoor else None
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(
                serve_app(
                    app,
                    config.host,
                    config.port,
                    stop,
                    drain_timeout=config.drain_timeout,
                    limits=config.connection_limits(),
                    service=SERVICE,
                )
            )
            if metrics_port is not None:
                tasks.create_task(
                    serve_metrics(metrics_host or config.host, metrics_port, stop, health=health)
                )
    finally:
        if console is not None:
            await console.close()


def _templates_db(url: str | None) -> Database | None:
    if url is None:
        return None
    from wubloader.db.database import Database  # only nodes with a database pay for SQLAlchemy

    return Database(url)


def run(args: argparse.Namespace) -> int:
    """CLI entry point: exit 0 after a graceful SIGTERM/SIGINT, 2 for bad configuration."""
    setup_logging(args.log_level)
    quiet_malformed_request_logs()

    async def main(stop: asyncio.Event) -> None:
        config = config_from_args(args)
        database = _templates_db(args.db)
        try:
            await serve(
                config,
                stop,
                metrics_port=args.metrics_port,
                metrics_host=args.metrics_host,
                backdoor=backdoor_config(args),
                templates_db=database,
            )
        finally:
            if database is not None:
                database.close()

    return run_component(main)
