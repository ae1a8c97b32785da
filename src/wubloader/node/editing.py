"""The editing side of a node: thrimshim + the editor + a cutter over one events database, plus the
demo's published videos served under `/videos/` of the same port. Imported only when it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from wubloader.cutter.app import build_backends, run_all
from wubloader.cutter.config import CutterConfig
from wubloader.cutter.job import JobServices
from wubloader.cutter.runner import JobRunner
from wubloader.db.database import Database
from wubloader.node.demo_events import create_demo_events
from wubloader.node.editing_config import VIDEOS_ROUTE
from wubloader.runtime.serve import serve_app
from wubloader.runtime.timeparse import now_utc
from wubloader.thrimshim.app import create_app, database_health, editor_config
from wubloader.thrimshim.config import ThrimshimConfig

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from wubloader.cutter.locations import Location
    from wubloader.node.editing_config import EditingConfig
    from wubloader.runtime.serve import RunningServer
    from wubloader.store import SegmentIndex

logger = logging.getLogger(__name__)


async def run_editing(
    config: EditingConfig,
    *,
    base: Path,
    index: SegmentIndex,
    restreamer_url: str,
    stop: asyncio.Event,
    on_listening: Callable[[RunningServer], None],
) -> None:
    """Serve thrimshim + editor (+ videos), run the cutter and demo events until `stop`.

    `videos` is created first, so the demo database beside it has its directory.
    """
    if config.videos is not None:
        await asyncio.to_thread(config.videos.mkdir, parents=True, exist_ok=True)
    database = Database(config.db_url, pool_size=8)
    try:
        if config.upgrade:
            await asyncio.to_thread(database.upgrade)
        else:
            await asyncio.to_thread(database.require_current)
        async with asyncio.TaskGroup() as group:
            group.create_task(_serve(config, database, restreamer_url, stop, on_listening), name="thrimshim")
            if config.locations:
                cut = _cut(config, config.locations, base, index, database, stop)
                group.create_task(cut, name="cutter")
            if config.demo_events is not None:
                demo = create_demo_events(config.demo_events, database, index, stop)
                group.create_task(demo, name="demo-events")
    finally:
        database.close()


async def _serve(
    config: EditingConfig,
    database: Database,
    restreamer_url: str,
    stop: asyncio.Event,
    on_listening: Callable[[RunningServer], None],
) -> None:
    locations = tuple(config.locations or ())
    thrimshim = ThrimshimConfig(
        db_url=config.db_url,
        http=config.http,
        authentication=config.authentication,
        upload_locations=locations,
        default_channel=config.demo_events.channel if config.demo_events is not None else None,
        drain_timeout=config.drain_timeout,
    )
    editor = editor_config(thrimshim, restreamer_url)
    app = create_app(thrimshim, database, editor=editor, health=database_health(database, stop))
    if config.videos is not None:
        app.router.add_static(VIDEOS_ROUTE, config.videos, show_index=False, follow_symlinks=False)
    await serve_app(
        app,
        config.http.host,
        config.http.port,
        stop,
        drain_timeout=config.drain_timeout,
        on_listening=on_listening,
        service="thrimshim",
    )


async def _cut(
    config: EditingConfig,
    locations: dict[str, Location],
    base: Path,
    index: SegmentIndex,
    database: Database,
    stop: asyncio.Event,
) -> None:
    cutter = CutterConfig(base_dir=base, name=config.cutter_name, locations=locations)
    backends = build_backends(locations, config.creds)
    async with contextlib.AsyncExitStack() as stack:
        for backend in backends.values():
            stack.push_async_callback(backend.aclose)
        services = JobServices(config=cutter, database=database, index=index, now=now_utc)
        await run_all(JobRunner(services, backends, stop), services, backends, database.url)
