"""Helpers for cutter tests: submitted events, locations files, cutter subprocesses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.harness.processes import Component, start_component
from wubloader.db import events
from wubloader.db.database import Database
from wubloader.db.event_records import EditInputs, SheetEvent, Transition, VideoRange
from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.db.schema import events as events_table


def edit_for(
    start: datetime,
    spans: list[tuple[float, float]],
    *,
    transitions: list[tuple[str, float] | None] | None = None,
    location: str = "local",
    title: str = "A video",
    allow_holes: bool = False,
    whitelist: tuple[str, ...] | None = None,
    thumbnail: ThumbnailMode = ThumbnailMode.NONE,
    thumbnail_at: float | None = None,
    template: str | None = None,
) -> EditInputs:
    """An edit of ranges given as (start, end) seconds after `start`, on chan/source."""
    ranges = tuple(
        VideoRange(start=start + timedelta(seconds=a), end=start + timedelta(seconds=b)) for a, b in spans
    )
    given = transitions if transitions is not None else [None] * (len(spans) - 1)
    return EditInputs(
        upload_location=location,
        allow_holes=allow_holes,
        uploader_whitelist=whitelist,
        video_ranges=ranges,
        video_transitions=tuple(None if t is None else Transition(type=t[0], duration=t[1]) for t in given),
        video_title=title,
        video_description="description",
        video_tags=("tag1", "tag2"),
        video_channel="chan",
        thumbnail_mode=thumbnail,
        thumbnail_time=None if thumbnail_at is None else start + timedelta(seconds=thumbnail_at),
        thumbnail_template=template,
    )


def submit(database: Database, event_id: str, edit: EditInputs) -> None:
    """Insert the event and submit the edit (→ EDITED)."""
    with database.transaction() as conn:
        if events.get_event(conn, event_id) is None:
            events.insert_event(conn, SheetEvent(id=event_id, sheet_name="Day 1"))
        assert _save_edited(conn, event_id, edit)


def row(database: Database, event_id: str):
    with database.transaction() as conn:
        return events.get_event(conn, event_id)


def column(database: Database, event_id: str, name: str):
    with database.transaction() as conn:
        query = sa.select(events_table.c[name]).where(events_table.c.id == event_id)
        return conn.execute(query).scalar()


def states(database: Database) -> dict[str, str]:
    with database.transaction() as conn:
        return dict(conn.execute(sa.select(events_table.c.id, events_table.c.state)).all())


def write_locations(directory: Path, locations: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "locations.json"
    path.write_text(json.dumps(locations))
    return path


def start_cutter(
    tmp_path: Path,
    base: Path,
    db_url: str,
    locations: Path,
    *extra: str,
    name: str = "c1",
    creds: Path | None = None,
) -> Component:
    args = ["cutter", "--base-dir", str(base), "--db", db_url, "--locations", str(locations), "--name", name,
            "--poll-interval", "0.5", *extra]  # fmt: skip
    if creds is not None:
        args += ["--creds", str(creds)]
    return start_component(args, tmp_path / "logs", ready_path=None)


def submit_many(database: Database, edits: dict[str, EditInputs]) -> None:
    """Insert and submit many events in one transaction (one burst of NOTIFYs at commit)."""
    with database.transaction() as conn:
        for event_id, edit in edits.items():
            events.insert_event(conn, SheetEvent(id=event_id, sheet_name="Day 1"))
            assert _save_edited(conn, event_id, edit)


def reset(database: Database, event_id: str) -> None:
    """What an editor's Cancel does."""
    with database.transaction() as conn:
        assert events.reset_event(conn, event_id, force=False)


def ffmpeg_children(pid: int) -> list[int]:
    """PIDs of ffmpeg processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        if parent == pid and name == "ffmpeg":
            found.append(int(stat.parent.name))
    return found


def _save_edited(conn, event_id, edit):
    """Submit `edit` as an editor would (state EDITED), without a version check."""
    return events.save_edit(
        conn, event_id, edit, state=EventState.EDITED, editor="e@x.y", now=datetime(2024, 1, 1), version=None
    )
