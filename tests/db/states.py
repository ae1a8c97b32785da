"""Test helpers: a complete edit, and a row placed in any state the way the cutter would leave it."""

from datetime import datetime

import sqlalchemy as sa

from wubloader.db import events
from wubloader.db.event_records import EditInputs, SheetEvent, Transition, VideoRange
from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.db.schema import events as events_table

T0 = datetime(2024, 11, 10, 3, 4, 5, 123456)
EDIT = EditInputs(
    upload_location="local",
    video_ranges=(
        VideoRange(start=T0, end=datetime(2024, 11, 10, 3, 10, 0, 1)),
        VideoRange(start=datetime(2024, 11, 10, 4, 0, 0), end=datetime(2024, 11, 10, 4, 0, 30, 500000)),
    ),
    video_transitions=(Transition(type="fade", duration=0.1 + 0.2),),
    video_title="A title",
    video_description="A description",
    video_tags=("one", "two"),
    video_channel="desertbus",
    thumbnail_mode=ThumbnailMode.BARE,
    thumbnail_time=T0,
    thumbnail_crop=(0, 0, 1920, 1080),
    thumbnail_location=(10, 20, 30, 40),
)

# What the cutter (or an admin) sets when a row reaches each state, on top of a submitted edit.
_CUTTER_COLUMNS = {
    EventState.CLAIMED: {"uploader": "cutter1", "claimed_until": T0},
    EventState.FINALIZING: {"uploader": "cutter1"},
    EventState.TRANSCODING: {"uploader": "cutter1", "video_id": "vid", "video_link": "https://v/1"},
    EventState.DONE: {
        "video_id": "vid",
        "video_link": "https://v/1",
        "upload_time": T0,
        "thumbnail_last_written": b"\0" * 32,
    },
    EventState.MODIFIED: {
        "video_id": "vid",
        "video_link": "https://v/1",
        "upload_time": T0,
        "last_modified": T0,
        "thumbnail_last_written": b"\0" * 32,
    },
}


def new_event(conn, event_id="ev1", **sheet) -> None:
    events.insert_event(conn, SheetEvent(id=event_id, sheet_name="Tuesday", event_start=T0, **sheet))


def put_in_state(conn, event_id: str, state: EventState) -> None:
    """Create `event_id` and bring it to `state` with consistent columns (bypassing the API)."""
    new_event(conn, event_id)
    if state is EventState.UNEDITED:
        return
    assert events.save_edit(
        conn, event_id, EDIT, state=EventState.EDITED, editor="e@x.y", now=T0, version=None
    )
    if state is not EventState.EDITED:
        conn.execute(
            sa.update(events_table)
            .where(events_table.c.id == event_id)
            .values(state=str(state), **_CUTTER_COLUMNS[state])
        )
