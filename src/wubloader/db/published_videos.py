"""Published videos' upkeep: TRANSCODING → DONE (TranscodeChecker) and MODIFIED → DONE (VideoUpdater).

Neither is claimed: several nodes may check or update the same rows; every write is guarded by the
state (and for MODIFIED rows the version read), so a concurrent checker or a new edit wins cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from wubloader.db.cutter_jobs import JOB_COLUMNS, edit_of
from wubloader.db.schema import EventState, events

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from wubloader.db.event_records import EditInputs

_S = EventState


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedRow:
    """A TRANSCODING or MODIFIED row, for the TranscodeChecker and the VideoUpdater."""

    id: str
    version: int
    video_id: str
    edit: EditInputs
    thumbnail_last_written: bytes | None


def _published(connection: sa.Connection, state: EventState, location: str) -> list[PublishedRow]:
    columns = [*JOB_COLUMNS, events.c.video_id, events.c.thumbnail_last_written, events.c.thumbnail_image]
    query = sa.select(*columns).where(events.c.state == str(state), events.c.upload_location == location)
    if state is _S.MODIFIED:
        query = query.where(events.c.error.is_(None))
    return [
        PublishedRow(
            id=row["id"],
            version=row["row_version"],
            video_id=row["video_id"] or "",
            edit=edit_of(dict(row)),
            thumbnail_last_written=row["thumbnail_last_written"],
        )
        for row in connection.execute(query).mappings()
    ]


def transcoding_rows(connection: sa.Connection, location: str) -> list[PublishedRow]:
    """TRANSCODING rows of `location`."""
    return _published(connection, _S.TRANSCODING, location)


def mark_transcoded(connection: sa.Connection, ids: Collection[str], *, now: datetime) -> list[str]:
    """TRANSCODING → DONE for `ids` still TRANSCODING (so concurrent checkers cannot double-mark)."""
    if not ids:
        return []
    result = connection.execute(
        sa.update(events)
        .where(events.c.id.in_(list(ids)), events.c.state == str(_S.TRANSCODING))
        .values(state=str(_S.DONE), upload_time=now, row_version=events.c.row_version + 1)
        .returning(events.c.id)
    )
    return list(result.scalars().all())


def modified_rows(connection: sa.Connection, location: str) -> list[PublishedRow]:
    """MODIFIED rows of `location` without an error (erroring ones wait for an operator)."""
    return _published(connection, _S.MODIFIED, location)


def finish_modified(
    connection: sa.Connection,
    row: PublishedRow,
    *,
    thumbnail_image: bytes | None,
    thumbnail_hash: bytes | None,
) -> bool:
    """MODIFIED → DONE if unchanged since read (else the next pass redoes it)."""
    values: dict[str, Any] = {"state": str(_S.DONE), "row_version": events.c.row_version + 1}
    if thumbnail_image is not None:
        values.update(thumbnail_image=thumbnail_image, thumbnail_last_written=thumbnail_hash)
    result = connection.execute(
        sa.update(events)
        .where(events.c.id == row.id, events.c.state == str(_S.MODIFIED), events.c.row_version == row.version)
        .values(**values)
    )
    return bool(result.rowcount)


def fail_modified(connection: sa.Connection, row: PublishedRow, *, error: str) -> bool:
    """Set `error` on a MODIFIED row (if unchanged and without one): updaters skip it until cleared."""
    result = connection.execute(
        sa.update(events)
        .where(
            events.c.id == row.id,
            events.c.state == str(_S.MODIFIED),
            events.c.row_version == row.version,
            events.c.error.is_(None),
        )
        .values(error=error)
    )
    return bool(result.rowcount)
