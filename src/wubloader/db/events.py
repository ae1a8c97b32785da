"""Queries and state transitions of the events table, read top to bottom as the state machine.

Every transition is one function whose WHERE clause carries its guard (the states it may leave, and
the row version the caller saw when it gives one); it returns whether the row moved. The cutter's
transitions (claim, finalize, …) live in db/cutter_jobs.py.

    (insert) → UNEDITED ─ submit → EDITED ─ claim → CLAIMED → FINALIZING → TRANSCODING → DONE
    UNEDITED/EDITED/CLAIMED ─ save_edit(draft) / cancel → UNEDITED;  UNEDITED ─ manual link → DONE
    DONE/MODIFIED ─ modify_published → MODIFIED;  any ─ reset(force) → UNEDITED
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from wubloader.db import dialect
from wubloader.db.event_records import (
    EDIT_FIELDS,
    SHEET_FIELDS,
    EditInputs,
    Event,
    SheetEvent,
    event_from_row,
    to_columns,
)
from wubloader.db.schema import EventState, ThumbnailMode, events

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

EDITABLE_STATES = (EventState.UNEDITED, EventState.EDITED, EventState.CLAIMED)
PUBLISHED_STATES = (EventState.DONE, EventState.MODIFIED)
# What a published video may still change (the rest is baked into the upload).
MODIFIABLE_FIELDS = (
    "video_title",
    "video_description",
    "video_tags",
    "public",
    "thumbnail_mode",
    "thumbnail_time",
    "thumbnail_template",
    "thumbnail_image",
    "thumbnail_crop",
    "thumbnail_location",
)
_RESET_CLEARS = (
    "error",
    "video_id",
    "video_link",
    "uploader",
    "editor",
    "edit_time",
    "upload_time",
    "last_modified",
    "claimed_until",
)
_HAS_IMAGE = events.c.thumbnail_image.is_not(None).label("has_thumbnail_image")
_ALL_BUT_IMAGE = [c for c in events.c if c.name != "thumbnail_image"]
_LISTED = [c for c in _ALL_BUT_IMAGE if c.name != "thumbnail_last_written"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFilter:
    """List filters; None means "any". `since`: events starting at or after it (or without a start)."""

    state: EventState | None = None
    category: str | None = None
    since: datetime | None = None


def _bump() -> dict[str, Any]:
    return {"row_version": events.c.row_version + 1}


def _guard(event_id: str, states: Iterable[EventState] | None, version: int | None) -> list[Any]:
    where: list[Any] = [events.c.id == event_id]
    if states is not None:
        where.append(events.c.state.in_([str(s) for s in states]))
    if version is not None:
        where.append(events.c.row_version == version)
    return where


def get_event(connection: sa.Connection, event_id: str, *, lock: bool = False) -> Event | None:
    """The whole row, or None. `lock`: hold it until the transaction ends (PostgreSQL FOR UPDATE;
    SQLite transactions already hold the write lock)."""
    query = sa.select(*events.c, _HAS_IMAGE).where(events.c.id == event_id)
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).mappings().first()
    return None if row is None else event_from_row(dict(row))


def _filtered(query: sa.Select[Any], filters: EventFilter) -> sa.Select[Any]:
    if filters.state is not None:
        query = query.where(events.c.state == str(filters.state))
    if filters.category is not None:
        query = query.where(events.c.category == filters.category)
    if filters.since is not None:
        query = query.where(sa.or_(events.c.event_start >= filters.since, events.c.event_start.is_(None)))
    return query.order_by(events.c.event_start.asc().nulls_last(), events.c.id)


def list_events(connection: sa.Connection, filters: EventFilter = EventFilter()) -> list[Event]:
    """Rows ordered by start (NULL last) then id, without thumbnail bytes."""
    query = _filtered(sa.select(*_ALL_BUT_IMAGE, _HAS_IMAGE), filters)
    return [event_from_row(dict(row)) for row in connection.execute(query).mappings()]


def list_events_json(connection: sa.Connection, filters: EventFilter = EventFilter()) -> str:
    """The same rows as `list_events` as one JSON array text, built by the database (the listing's
    hot path: 20,000 rows never become Python objects). Keys are the column names plus
    `has_thumbnail_image`; `thumbnail_image` and `thumbnail_last_written` are left out."""
    pairs = [(c.name, c) for c in _LISTED] + [("has_thumbnail_image", _HAS_IMAGE.element)]
    query = _filtered(sa.select(dialect.json_object(connection, pairs)), filters)
    return "[" + ",".join(connection.execute(query).scalars()) + "]"


def events_fingerprint(connection: sa.Connection) -> str | None:
    """A text that changes whenever any committed row of `events` is inserted, updated or deleted,
    whoever wrote it (not every writer bumps `row_version`); None where no such text is cheap.

    PostgreSQL: every committed change leaves a new row version with its own (xmin, ctid), so a
    digest of all of them, in id order, with the row count, changes with any row. About 1/50 of
    building the listing itself (no columns are read). SQLite has no row versions: None.
    """
    if not dialect.is_postgresql(connection):
        return None
    query = sa.text(
        "SELECT count(*) || ':' || md5(coalesce(string_agg(xmin::text || ctid::text, ',' ORDER BY id), ''))"
        " FROM events"
    )
    return str(connection.execute(query).scalar_one())


def thumbnail_image(connection: sa.Connection, event_id: str) -> bytes | None:
    """The stored thumbnail PNG unless the mode is NONE."""
    query = sa.select(events.c.thumbnail_image).where(
        events.c.id == event_id, events.c.thumbnail_mode != str(ThumbnailMode.NONE)
    )
    value = connection.execute(query).scalar()
    return None if value is None else bytes(value)


def insert_event(connection: sa.Connection, sheet: SheetEvent) -> None:
    """(insert) → UNEDITED. Raises ConstraintViolation (via Database) if the id exists."""
    connection.execute(sa.insert(events).values(**to_columns(dataclasses.asdict(sheet))))


def upsert_sheet_events(
    connection: sa.Connection, rows: Iterable[SheetEvent], *, fields: Iterable[str] = SHEET_FIELDS
) -> tuple[int, int]:
    """Insert new ids; on existing ones update only the sheet columns in `fields` (never edit columns
    or state). Returns (inserted, updated)."""
    inserted = updated = 0
    wanted = set(fields) - {"id"}
    for sheet in rows:
        values = to_columns(dataclasses.asdict(sheet))
        changes = {k: v for k, v in values.items() if k in wanted}
        result = connection.execute(
            sa.update(events).where(events.c.id == sheet.id).values(**changes, **_bump())
        )
        if result.rowcount:
            updated += 1
        else:
            connection.execute(sa.insert(events).values(**values))
            inserted += 1
    return inserted, updated


def save_edit(
    connection: sa.Connection,
    event_id: str,
    edit: EditInputs,
    *,
    state: EventState,
    editor: str,
    now: datetime,
    version: int | None,
) -> bool:
    """UNEDITED/EDITED/CLAIMED → `state` (EDITED = submit, UNEDITED = save draft).

    Writes every edit column, clears `uploader`/`error`/lease (a cutter holding the claim finds out
    at its next guarded write), records editor and time. False if the row left those states or its
    version is no longer `version`.
    """
    values = to_columns({k: getattr(edit, k) for k in EDIT_FIELDS})
    result = connection.execute(
        sa.update(events)
        .where(*_guard(event_id, EDITABLE_STATES, version))
        .values(
            **values,
            state=str(state),
            uploader=None,
            error=None,
            claimed_until=None,
            editor=editor,
            edit_time=now,
            **_bump(),
        )
    )
    return bool(result.rowcount)


def modify_published(
    connection: sa.Connection,
    event_id: str,
    changes: dict[str, Any],
    *,
    editor: str,
    now: datetime,
    version: int | None,
) -> bool:
    """DONE/MODIFIED → MODIFIED with new metadata (only MODIFIABLE_FIELDS); clears `error`."""
    values = to_columns({k: v for k, v in changes.items() if k in MODIFIABLE_FIELDS})
    result = connection.execute(
        sa.update(events)
        .where(*_guard(event_id, PUBLISHED_STATES, version))
        .values(
            **values, state=str(EventState.MODIFIED), last_modified=now, error=None, editor=editor, **_bump()
        )
    )
    return bool(result.rowcount)


def link_manually(
    connection: sa.Connection,
    event_id: str,
    *,
    upload_location: str,
    video_link: str,
    video_id: str | None,
    editor: str,
    now: datetime,
) -> bool:
    """UNEDITED → DONE for a video uploaded by hand (no thumbnail handling)."""
    result = connection.execute(
        sa.update(events)
        .where(*_guard(event_id, (EventState.UNEDITED,), None))
        .values(
            state=str(EventState.DONE),
            upload_location=upload_location,
            video_link=video_link,
            video_id=video_id,
            editor=editor,
            edit_time=now,
            upload_time=now,
            thumbnail_mode=str(ThumbnailMode.NONE),
            **_bump(),
        )
    )
    return bool(result.rowcount)


def reset_event(connection: sa.Connection, event_id: str, *, force: bool) -> bool:
    """Cancel (UNEDITED/EDITED/CLAIMED → UNEDITED) or, with `force`, any state → UNEDITED.

    Clears the outputs and the claim; the edit inputs stay so the editor can resubmit.
    """
    result = connection.execute(
        sa.update(events)
        .where(*_guard(event_id, None if force else EDITABLE_STATES, None))
        .values(state=str(EventState.UNEDITED), **dict.fromkeys(_RESET_CLEARS), **_bump())
    )
    return bool(result.rowcount)


def sheet_values(event: Event) -> dict[str, Any]:
    """The sheet columns of `event` by name (for drift checks and listings)."""
    return {name: getattr(event.sheet, name) for name in SHEET_FIELDS}
