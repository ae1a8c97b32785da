"""Demo events: a row for a window of the demo stream already archived, at start-up and every few minutes.

A newcomer opening the editor then always finds something to cut without planning an event first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.db.errors import ConstraintViolation
from wubloader.db.event_records import SheetEvent
from wubloader.db.events import insert_event
from wubloader.runtime.timeparse import format_utc, now_utc
from wubloader.store.selection import HOLE

if TYPE_CHECKING:
    from datetime import datetime

    from wubloader.db.database import Database
    from wubloader.node.editing_config import DemoEvents
    from wubloader.store import SegmentIndex

logger = logging.getLogger(__name__)

POLL = 2.0


def archived_window(index: SegmentIndex, demo: DemoEvents, now: datetime) -> tuple[datetime, datetime] | None:
    """The newest hole-free stretch of the demo channel within the last `window` s, if it lasts
    `min_window` s."""
    start: datetime | None = None
    end: datetime | None = None
    fresh = True  # the next segment starts a new stretch (after a hole)
    for piece in index.best_segments(demo.channel, demo.quality, now - timedelta(seconds=demo.window), now):
        if piece is HOLE:
            fresh = True
            continue
        if fresh:
            start, fresh = piece.start, False
        end = piece.end
    if start is None or end is None or (end - start).total_seconds() < demo.min_window:
        return None
    return start, end


async def create_demo_events(
    demo: DemoEvents, database: Database, index: SegmentIndex, stop: asyncio.Event
) -> None:
    """Insert one demo event as soon as enough is archived, then one every `interval` seconds."""
    while not stop.is_set():
        window = await asyncio.to_thread(archived_window, index, demo, now_utc())
        pause = POLL
        if window is not None:
            start, end = window
            event = SheetEvent(
                id=start.strftime("demo-%Y%m%d-%H%M%S"),
                sheet_name="Demo",
                event_start=start,
                event_end=end,
                category="Demo",
                description=f"A demo event: {(end - start).total_seconds():.0f} s of the demo stream to cut",
            )
            try:
                await database.run(insert_event, event)
            except ConstraintViolation:  # the same window after a quick restart: it is there already
                logger.info("demo event %s exists already", event.id)
            else:
                logger.info("demo event %s created (%s to %s)", event.id, format_utc(start), format_utc(end))
            pause = demo.interval
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pause):
                await stop.wait()
