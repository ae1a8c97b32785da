"""`wubloader cutter`: parse flags and the locations file, build backends, run jobs and upkeep loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.cutter.backend_local import LocalBackend, LocalOptions
from wubloader.cutter.backend_local_archive import LocalArchiveBackend
from wubloader.cutter.backend_youtube import YouTubeBackend, YouTubeOptions
from wubloader.cutter.config import CutterConfig
from wubloader.cutter.errors import LocationsError
from wubloader.cutter.job import JobServices
from wubloader.cutter.job_gauges import JobStateGauges
from wubloader.cutter.locations import BackendType, read_locations
from wubloader.cutter.runner import JobRunner
from wubloader.cutter.upkeep import TranscodeChecker, VideoUpdater
from wubloader.cutter.youtube_auth import GoogleCredentials, read_credentials
from wubloader.db.database import Database
from wubloader.db.errors import DatabaseUnavailable
from wubloader.db.listen import listen_for_edits
from wubloader.runtime.backdoor import start_backdoor
from wubloader.runtime.config import add_common_arguments, backdoor_config, parse_csv
from wubloader.runtime.health import Health
from wubloader.runtime.logsetup import setup_logging
from wubloader.runtime.metrics import LOOPBACK, start_metrics_server
from wubloader.runtime.serve import run_component
from wubloader.runtime.timeparse import now_utc
from wubloader.store.selection import SegmentIndex

if TYPE_CHECKING:
    import argparse

    from wubloader.cutter.backend import UploadBackend
    from wubloader.cutter.locations import Location
    from wubloader.runtime.config import EnvArgumentParser

logger = logging.getLogger(__name__)

EXIT_FAILED_JOBS = 1
TRANSCODE_INTERVAL = 20.0
UPDATE_INTERVAL = 10.0
DB_RETRY_PAUSE = 10.0
JOB_GAUGES_INTERVAL = 15.0


def configure_parser(parser: EnvArgumentParser) -> None:
    """The cutter's flags plus the common ones."""
    add = parser.add_argument
    add("--base-dir", type=Path, required=True, help="the local segment store")
    add("--db", required=True, metavar="URL", help="sqlite:///PATH or postgresql://…")
    add(
        "--locations",
        type=Path,
        required=True,
        metavar="FILE.json",
        help="upload locations (see docs/cutter.md)",
    )
    add(
        "--creds",
        type=Path,
        default=None,
        metavar="FILE.json",
        help="Google OAuth credentials (youtube only)",
    )
    add("--name", default=socket.gethostname(), help="this cutter's unique, stable name (default: hostname)")
    add("--jobs", type=int, default=1, help="jobs cut and uploaded at once (default 1)")
    add(
        "--lease",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds a claim lasts unless renewed (default 60)",
    )
    add("--tags", type=parse_csv, default=(), metavar="a,b", help="tags added to every video")
    add(
        "--uploader-explicit-only",
        action="store_true",
        help="only take jobs whose allowlist names this cutter",
    )
    add(
        "--once",
        action="store_true",
        help="take every job possible now, finish, exit 0 only if all succeeded",
    )
    add("--poll-interval", type=float, default=5.0, metavar="S", help="re-list jobs this often (default 5)")
    add("--drain-timeout", type=float, default=60.0, metavar="S", help="on stop, let jobs finish this long")
    add_common_arguments(parser)


def config_from_args(args: argparse.Namespace) -> CutterConfig:
    """The config record; RuntimeConfigError (exit 2) for unusable values or locations."""
    return CutterConfig(
        base_dir=args.base_dir,
        name=args.name,
        locations=read_locations(args.locations),
        jobs=args.jobs,
        lease=args.lease,
        tags=args.tags,
        explicit_only=args.uploader_explicit_only,
        once=args.once,
        poll_interval=args.poll_interval,
        drain_timeout=args.drain_timeout,
    )


def credentials_for(locations: dict[str, Location], creds: Path | None) -> GoogleCredentials | None:
    """The credentials a youtube location needs (read only then); LocationsError at start-up if missing."""
    if not any(loc.type is BackendType.YOUTUBE for loc in locations.values()):
        return None
    if creds is None:
        raise LocationsError("a youtube location needs --creds FILE.json")
    return read_credentials(creds)


def build_backends(locations: dict[str, Location], creds: Path | None) -> dict[str, UploadBackend]:
    """One backend per location."""
    credentials = credentials_for(locations, creds)
    backends: dict[str, UploadBackend] = {}
    for name, location in locations.items():
        options = location.options
        if isinstance(options, YouTubeOptions):
            assert credentials is not None
            backends[name] = YouTubeBackend(options, credentials)
        elif location.type is BackendType.LOCAL_ARCHIVE:
            backends[name] = LocalArchiveBackend(options)
        else:
            assert isinstance(options, LocalOptions)
            backends[name] = LocalBackend(options)
    return backends


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> int:
    """Run until `stop` (or, with --once, until no job is left to take); returns the exit code."""
    config = config_from_args(args)
    database = Database(args.db, pool_size=config.jobs + 4)
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(database.close)
        if args.metrics_port is not None:
            # Up before the database wait, so /readyz can say the database is what is missing.
            health = Health({"database": database.check_ready}, stop=stop)
            server = await start_metrics_server(
                args.metrics_host or LOOPBACK, args.metrics_port, health=health
            )
            stack.push_async_callback(server.close)
        if not await wait_for_database(database, stop):
            return 0
        backends = build_backends(config.locations, args.creds)
        for backend in backends.values():
            stack.push_async_callback(backend.aclose)
        services = JobServices(
            config=config, database=database, index=SegmentIndex(config.base_dir), now=now_utc
        )
        runner = JobRunner(services, backends, stop)
        backdoor = await start_backdoor(backdoor_config(args), {"runner": runner, "config": config})
        if backdoor is not None:
            stack.push_async_callback(backdoor.close)
        ok = await run_all(runner, services, backends, args.db)
        return EXIT_FAILED_JOBS if config.once and not ok else 0
    return 0


async def wait_for_database(database: Database, stop: asyncio.Event) -> bool:
    """Until the database answers with the current schema (False if stopped first).

    An outdated schema is a start-up error (SchemaOutdated, exit 2); an unreachable server is retried.
    """
    while True:
        try:
            await asyncio.to_thread(database.require_current)
            return True
        except DatabaseUnavailable as exc:
            logger.warning("%s; retrying in %.0f s", exc, DB_RETRY_PAUSE)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DB_RETRY_PAUSE):
                await stop.wait()
                return False


async def run_all(
    runner: JobRunner, services: JobServices, backends: dict[str, UploadBackend], db_url: str
) -> bool:
    """The runner plus, while it runs, the NOTIFY listener and each location's upkeep loops."""
    config = services.config
    async with asyncio.TaskGroup() as group:
        helpers = [group.create_task(listen_for_edits(db_url, runner.notify))]
        if not config.once:
            gauges = JobStateGauges(services.database, interval=JOB_GAUGES_INTERVAL)
            helpers.append(group.create_task(gauges.run()))
            for name, location in config.locations.items():
                backend = backends[name]
                if backend.needs_transcode:
                    checker = TranscodeChecker(services, name, backend, interval=TRANSCODE_INTERVAL)
                    helpers.append(group.create_task(checker.run()))
                if not location.no_updater:
                    updater = VideoUpdater(services, name, backend, interval=UPDATE_INTERVAL)
                    helpers.append(group.create_task(updater.run()))
        ok = await runner.run()
        for helper in helpers:
            helper.cancel()
    if config.once:
        await upkeep_once(services, backends)
    return ok


async def upkeep_once(services: JobServices, backends: dict[str, UploadBackend]) -> None:
    """--once: one transcode check and one update pass per location after the jobs."""
    for name, location in services.config.locations.items():
        backend = backends[name]
        if backend.needs_transcode:
            await TranscodeChecker(services, name, backend, interval=TRANSCODE_INTERVAL).check_once()
        if not location.no_updater:
            await VideoUpdater(services, name, backend, interval=UPDATE_INTERVAL).update_once()


def run(args: argparse.Namespace) -> int:
    """CLI entry point: 0 after a graceful stop; with --once, 0 only if every job taken succeeded."""
    setup_logging(args.log_level)

    async def main(stop: asyncio.Event) -> int:
        return await serve(args, stop)

    return run_component(main)
