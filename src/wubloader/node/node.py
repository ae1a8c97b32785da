"""Runs a node's components in one process (restreamer, downloader or demo, backfiller) with one stop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING

from wubloader.backfiller.app import run_draining
from wubloader.backfiller.backfiller import Backfiller
from wubloader.coverage.checker import CoverageChecker
from wubloader.downloader.manager import DOWNLOADER_THREADS, Downloader
from wubloader.maintenance.retention import Retention
from wubloader.maintenance.verify import Scrubber
from wubloader.node.demo import demo_stream
from wubloader.node.editing_config import VIDEOS_ROUTE
from wubloader.node.progress import report_progress
from wubloader.restreamer.app import create_app, store_checks
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.health import Health
from wubloader.runtime.http_client import create_session
from wubloader.runtime.metrics import serve_metrics, watch_store_space
from wubloader.runtime.serve import RunningServer, serve_app
from wubloader.runtime.supervise import supervise
from wubloader.runtime.workers import WorkerPool
from wubloader.store import SegmentIndex, TempSweeper

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from wubloader.db.database import Database
    from wubloader.node.config import NodeConfig
    from wubloader.node.editing_config import EditingConfig

logger = logging.getLogger(__name__)


class Node:
    """Everything one node runs; each component is supervised (a crash is logged, then restarted)."""

    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.server: RunningServer | None = None
        self.listening = asyncio.Event()
        # Archiving and peers' replication requests get threads of their own: playlist, cut and
        # image work (the loop's default pool) can then never starve them.
        self.downloader_pool = WorkerPool("downloader", DOWNLOADER_THREADS)
        self.replication_pool = WorkerPool("replication", config.restreamer.replication_threads)
        # One segment index for the restreamer and the cutter: hours are listed and cached once.
        self.index = SegmentIndex(config.restreamer.base_dir, max_bytes=config.restreamer.index_cache_bytes)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; then every component drains and the call returns.

        Start-up errors no restart can fix (the store cannot be created, a port is taken) are
        raised, not retried: the process exits with one line (see `run_component`).
        """
        base = self.config.restreamer.base_dir
        await asyncio.to_thread(prepare_store, base)
        watch_store_space(base)
        sweeper = TempSweeper(base)
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(self.downloader_pool.shutdown)
            stack.callback(self.replication_pool.shutdown)
            database = self._restreamer_database(stack)
            checks = store_checks(self.config.restreamer)
            if database is not None:
                checks["database"] = database.check_ready
            health = Health(checks, stop=stop)
            downloader_config = self.config.downloader
            if self.config.demo and downloader_config is not None:
                demo = await stack.enter_async_context(demo_stream())
                downloader_config = dataclasses.replace(downloader_config, source=demo.url)
            async with asyncio.TaskGroup() as group:
                group.create_task(sweeper.run(stop), name="temp-sweeper")
                self._start(group, "restreamer", lambda: self._serve(stop, health, database), stop)
                if self.config.metrics_port is not None:
                    host = self.config.metrics_host or self.config.restreamer.host
                    port = self.config.metrics_port
                    group.create_task(serve_metrics(host, port, stop, health=health), name="metrics")
                if downloader_config is not None:
                    downloader = Downloader(downloader_config, pool=self.downloader_pool)
                    self._start(group, "downloader", lambda: downloader.run(stop), stop)
                if self.config.backfiller is not None and self.config.nodes is not None:
                    self._start(group, "backfiller", lambda: self._backfill(stop), stop)
                self._start_maintenance(group, stop)
                if self.config.editing is not None:
                    self._start(group, "editing", lambda: self._edit(stop), stop)
                group.create_task(
                    report_progress(
                        self.config.progress_interval,
                        downloading=downloader_config is not None,
                        backfilling=self.config.nodes is not None,
                        stop=stop,
                    ),
                    name="progress",
                )

    def _restreamer_database(self, stack: contextlib.AsyncExitStack) -> Database | None:
        """On a node that edits, the events database for /readyz and /thumbnail's templates: its own
        connections, so a busy cutter can neither make the node look unready nor slow a preview."""
        if self.config.editing is None:
            return None
        from wubloader.db.database import Database  # only editing nodes pay for SQLAlchemy

        database = Database(self.config.editing.db_url, pool_size=2)
        stack.callback(database.close)
        return database

    def _start_maintenance(self, group: asyncio.TaskGroup, stop: asyncio.Event) -> None:
        """The optional continuous scrub, retention and coverage jobs."""
        base = self.config.restreamer.base_dir
        if self.config.scrub_rate is not None:
            scrubber = Scrubber(base, self.config.scrub_rate)
            self._start(group, "scrub", lambda: scrubber.run(stop), stop)
        if self.config.keep_hours is not None:
            retention = Retention(base, self.config.keep_hours)
            self._start(group, "retention", lambda: retention.run(stop), stop)
        interval = self.config.coverage_interval
        if interval is not None:
            checker = CoverageChecker(base)
            self._start(group, "coverage", lambda: checker.run(interval, stop), stop)

    def _start(
        self, group: asyncio.TaskGroup, name: str, factory: Callable[[], Awaitable[None]], stop: asyncio.Event
    ) -> None:
        group.create_task(supervise(name, factory, stop=stop), name=name)

    async def _serve(self, stop: asyncio.Event, health: Health, templates: Database | None) -> None:
        app = create_app(
            self.config.restreamer,
            self.index,
            replication=self.replication_pool,
            templates_db=templates,
            health=health,
        )
        config = self.config.restreamer

        def listening(server: RunningServer) -> None:
            self.server = server
            self.listening.set()
            print_summary(self.config, server.url)

        await serve_app(
            app,
            config.host,
            config.port,
            stop,
            drain_timeout=config.drain_timeout,
            on_listening=listening,
            limits=config.connection_limits(),
            service="restreamer",
        )

    async def _edit(self, stop: asyncio.Event) -> None:
        """Thrimshim, the editor and the cutter, once the restreamer the editor plays from listens."""
        from wubloader.node.editing import run_editing  # thrimshim + cutter load only when used

        editing = self.config.editing
        assert editing is not None
        await self.listening.wait()
        assert self.server is not None
        restreamer_url = restreamer_url_for_editor(self.server.url, self.server.port, editing.http.host)

        def listening(server: RunningServer) -> None:
            print_editing_summary(editing, server.url)

        await run_editing(
            editing,
            base=self.config.restreamer.base_dir,
            index=self.index,
            restreamer_url=restreamer_url,
            stop=stop,
            on_listening=listening,
        )

    async def _backfill(self, stop: asyncio.Event) -> None:
        config = self.config.backfiller
        assert config is not None and self.config.nodes is not None
        async with create_session(limit_per_host=config.concurrency + 2) as session:
            backfiller = Backfiller(
                config,
                session=session,
                nodes=self.config.nodes,
                self_url=self.config.self_url,
                stop=stop,
            )
            await run_draining(backfiller, stop, config.drain_timeout)


def prepare_store(base: Path) -> None:
    """Create the store directory if needed; RuntimeConfigError if it cannot be (a fatal start-up error)."""
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RuntimeConfigError(f"--base-dir {base}: {exc.strerror or exc}") from None


def print_summary(config: NodeConfig, url: str) -> None:
    """Tell the person who started the node where to look (logs may be filtered; this is for the terminal)."""
    lines = [f"wubloader node serving {config.restreamer.base_dir} at {url}"]
    if config.downloader is not None:
        channel = config.downloader.channel
        source = "the built-in demo stream" if config.demo else config.downloader.source
        lines.append(f"  archiving {channel} ({', '.join(config.downloader.qualities)}) from {source}")
        lines.append(f"  watch it:   ffplay '{url}/playlist/{channel}.m3u8'   (or open that URL in VLC)")
    if config.nodes is not None:
        lines.append("  backfilling from its peers (see the backfill progress lines)")
    lines.append(f"  listings:   {url}/files")
    lines.append(f"  metrics:    {url}/metrics")
    logger.info("\n".join(lines))


def restreamer_url_for_editor(url: str, port: int, editor_host: str) -> str:
    """The restreamer URL (`url`, on `port`) the editor's pages play from: a wildcard restreamer
    (`--host 0.0.0.0`) is reached at the address the browser reached the editor on (the demo's
    127.0.0.1, for one)."""
    wildcard = any(url.startswith(f"http://{host}:") for host in ("0.0.0.0", "[::]"))
    if not wildcard or editor_host in ("0.0.0.0", "::"):
        return url
    return f"http://[{editor_host}]:{port}" if ":" in editor_host else f"http://{editor_host}:{port}"


def print_editing_summary(config: EditingConfig, url: str) -> None:
    """Where to edit, and whether anyone can (the demo asks no sign-in, so it listens on 127.0.0.1 only)."""
    lines = [f"  editor:     {url}/   (thrimshim API at {url}/thrimshim)"]
    if not config.authentication:
        lines.append(f"  NO AUTHENTICATION: anyone who can reach {url} can edit (bound to 127.0.0.1 only)")
    if config.locations:
        lines.append(
            f"  cutting to: {', '.join(config.locations)}"
            + (f" (videos served at {url}{VIDEOS_ROUTE})" if config.videos is not None else "")
        )
    demo = config.demo_events
    if demo is not None:
        first, every = f"{demo.min_window:.0f} s", f"{demo.interval / 60:g} minutes"
        lines.append(f"  a demo event appears once {first} are archived, then every {every}")
    logger.info("\n".join(lines))
