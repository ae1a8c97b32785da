"""The cutter's side of the events state machine: candidates, lease claims, and every guarded write.

    EDITED ─ claim_job ─→ CLAIMED (uploader = me, lease until claimed_until, row_version + 1)
    CLAIMED ─ renew_lease (no version bump) … release_expired ─→ EDITED + note   (the cutter died)
    CLAIMED ─ mark_finalizing ─→ FINALIZING ─ mark_published ─→ TRANSCODING | DONE
    CLAIMED/FINALIZING ─ return_to_edited (retryable) | return_to_unedited (not) ─→ EDITED | UNEDITED
    FINALIZING ─ note_finalizing_error (stays: an operator decides) | mark_thumbnail_failed ─→ MODIFIED
    (TRANSCODING and MODIFIED rows: db/published_videos.py)

A claim holds `row_version` after the claim; every later write is guarded by `uploader = me`, the state
it leaves and that version, and bumps it, so a reset, an edit or a lease taken over by another
cutter makes the write match nothing (the caller then knows the job is no longer its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from wubloader.db.event_records import EDIT_FIELDS, SHEET_FIELDS, EditInputs, event_from_row
from wubloader.db.schema import EventState, ThumbnailMode, events

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime, timedelta

_S = EventState
JOB_COLUMNS = [events.c[name] for name in ("id", "row_version", *EDIT_FIELDS) if name != "thumbnail_image"]
_HAS_IMAGE = events.c.thumbnail_image.is_not(None).label("has_thumbnail_image")
FINALIZING_NOTE = (
    "An error occurred during FINALIZING, please determine if video was actually uploaded or not "
    "and either move to TRANSCODING/DONE and populate video_id or rollback to EDITED and clear uploader."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CutJob:
    """An EDITED row as a cutter sees it (edit inputs; the thumbnail image is loaded after the claim)."""

    id: str
    version: int
    edit: EditInputs
    has_thumbnail_image: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A row this cutter holds: its id, our name, and the row version our writes expect."""

    id: str
    uploader: str
    version: int


def edit_of(row: dict[str, Any]) -> EditInputs:
    """The edit columns of `row` through the shared column conversion (sheet columns are not read)."""
    sheet = dict.fromkeys(SHEET_FIELDS)
    event = event_from_row({**sheet, "id": row["id"], **{k: row.get(k) for k in EDIT_FIELDS}})
    return event.edit


def _claim_guard(claim: Claim, states: Collection[EventState]) -> list[Any]:
    return [
        events.c.id == claim.id,
        events.c.uploader == claim.uploader,
        events.c.row_version == claim.version,
        events.c.state.in_([str(s) for s in states]),
    ]


def _write(
    connection: sa.Connection, claim: Claim, states: Collection[EventState], **values: Any
) -> Claim | None:
    """One guarded, version-bumping write; the claim with its new version, or None if the row moved on."""
    result = connection.execute(
        sa.update(events)
        .where(*_claim_guard(claim, states))
        .values(**values, row_version=events.c.row_version + 1)
    )
    if not result.rowcount:
        return None
    return Claim(id=claim.id, uploader=claim.uploader, version=claim.version + 1)


def list_candidates(
    connection: sa.Connection, *, name: str, locations: Collection[str], explicit_only: bool
) -> list[CutJob]:
    """EDITED rows for `locations` that `name` may take (whitelist NULL = anyone, unless explicit_only)."""
    if not locations:
        return []
    query = sa.select(*JOB_COLUMNS, _HAS_IMAGE).where(
        events.c.state == str(_S.EDITED), events.c.upload_location.in_(list(locations))
    )
    jobs = []
    for row in connection.execute(query).mappings():
        job = CutJob(
            id=row["id"],
            version=row["row_version"],
            edit=edit_of(dict(row)),
            has_thumbnail_image=bool(row["has_thumbnail_image"]),
        )
        allowed = job.edit.uploader_whitelist
        if (allowed is None and not explicit_only) or (allowed is not None and name in allowed):
            jobs.append(job)
    return jobs


def claim_job(
    connection: sa.Connection, job: CutJob, *, name: str, now: datetime, lease: timedelta
) -> Claim | None:
    """EDITED → CLAIMED if the row is exactly as read (same version): one winner however many race."""
    result = connection.execute(
        sa.update(events)
        .where(events.c.id == job.id, events.c.state == str(_S.EDITED), events.c.row_version == job.version)
        .values(
            state=str(_S.CLAIMED),
            uploader=name,
            error=None,
            claimed_until=now + lease,
            row_version=events.c.row_version + 1,
        )
    )
    return Claim(id=job.id, uploader=name, version=job.version + 1) if result.rowcount else None


def renew_lease(connection: sa.Connection, claim: Claim, *, now: datetime, lease: timedelta) -> bool:
    """Extend the lease (no version bump, so editors' versions stay valid); False = no longer ours."""
    result = connection.execute(
        sa.update(events)
        .where(*_claim_guard(claim, (_S.CLAIMED, _S.FINALIZING)))
        .values(claimed_until=now + lease)
    )
    return bool(result.rowcount)


def release_expired(connection: sa.Connection, *, now: datetime) -> list[str]:
    """CLAIMED rows whose lease ran out → EDITED with a note; FINALIZING ones get the operator note."""
    note = (
        sa.literal("cutter ")
        + events.c.uploader
        + sa.literal(
            " stopped renewing its claim (crashed or lost the database); the job went back to EDITED"
        )
    )
    released = (
        connection.execute(
            sa.update(events)
            .where(events.c.state == str(_S.CLAIMED), events.c.claimed_until < now)
            .values(
                state=str(_S.EDITED),
                uploader=None,
                claimed_until=None,
                error=note,
                row_version=events.c.row_version + 1,
            )
            .returning(events.c.id)
        )
        .scalars()
        .all()
    )
    connection.execute(
        sa.update(events)
        .where(events.c.state == str(_S.FINALIZING), events.c.claimed_until < now, events.c.error.is_(None))
        .values(error=FINALIZING_NOTE)
    )
    return list(released)


def rollback_own(connection: sa.Connection, *, name: str) -> tuple[list[str], list[str]]:
    """Start-up cleanup: our CLAIMED rows → EDITED; our FINALIZING rows without error get the note.

    Returns (released ids, FINALIZING ids now needing an operator).
    """
    released = (
        connection.execute(
            sa.update(events)
            .where(events.c.state == str(_S.CLAIMED), events.c.uploader == name)
            .values(
                state=str(_S.EDITED), uploader=None, claimed_until=None, row_version=events.c.row_version + 1
            )
            .returning(events.c.id)
        )
        .scalars()
        .all()
    )
    stuck = (
        connection.execute(
            sa.update(events)
            .where(events.c.state == str(_S.FINALIZING), events.c.uploader == name, events.c.error.is_(None))
            .values(error=FINALIZING_NOTE)
            .returning(events.c.id)
        )
        .scalars()
        .all()
    )
    return list(released), list(stuck)


def note_candidate(connection: sa.Connection, job: CutJob, *, error: str) -> bool:
    """An informational note on an EDITED row (missing data, check failure), only if it has none."""
    result = connection.execute(
        sa.update(events)
        .where(
            events.c.id == job.id,
            events.c.state == str(_S.EDITED),
            events.c.row_version == job.version,
            events.c.error.is_(None),
        )
        .values(error=error)
    )
    return bool(result.rowcount)


def load_thumbnail_image(connection: sa.Connection, claim: Claim) -> bytes | None:
    """The stored thumbnail PNG of a claimed row (CUSTOM upload, or a cached generated one)."""
    query = sa.select(events.c.thumbnail_image).where(*_claim_guard(claim, (_S.CLAIMED,)))
    value = connection.execute(query).scalar()
    return None if value is None else bytes(value)


def save_thumbnail_image(connection: sa.Connection, claim: Claim, png: bytes) -> Claim | None:
    """Cache a generated thumbnail on the row (guarded)."""
    return _write(connection, claim, (_S.CLAIMED,), thumbnail_image=png)


def mark_finalizing(connection: sa.Connection, claim: Claim) -> Claim | None:
    """CLAIMED → FINALIZING, written after the body's last byte went to the backend."""
    return _write(connection, claim, (_S.CLAIMED,), state=str(_S.FINALIZING))


def mark_published(
    connection: sa.Connection,
    claim: Claim,
    *,
    video_id: str,
    video_link: str,
    transcoding: bool,
    now: datetime,
    thumbnail_hash: bytes | None,
) -> Claim | None:
    """FINALIZING → TRANSCODING (backend processes it) or DONE, with the video's id and link."""
    values: dict[str, Any] = {
        "video_id": video_id,
        "video_link": video_link,
        "error": None,
        "claimed_until": None,
    }
    if thumbnail_hash is not None:
        values["thumbnail_last_written"] = thumbnail_hash
    if transcoding:
        values["state"] = str(_S.TRANSCODING)
    else:
        values.update(state=str(_S.DONE), upload_time=now)
    return _write(connection, claim, (_S.FINALIZING,), **values)


def mark_thumbnail_failed(
    connection: sa.Connection, claim: Claim, *, video_id: str, video_link: str, now: datetime, error: str
) -> Claim | None:
    """FINALIZING → MODIFIED + error: the video is up but its thumbnail is not (an operator retries)."""
    return _write(
        connection,
        claim,
        (_S.FINALIZING,),
        state=str(_S.MODIFIED),
        video_id=video_id,
        video_link=video_link,
        upload_time=now,
        last_modified=now,
        error=error,
        claimed_until=None,
    )


def return_to_edited(connection: sa.Connection, claim: Claim, *, error: str) -> Claim | None:
    """CLAIMED/FINALIZING → EDITED (retryable failure; nothing was published): another try later."""
    return _write(
        connection,
        claim,
        (_S.CLAIMED, _S.FINALIZING),
        state=str(_S.EDITED),
        uploader=None,
        claimed_until=None,
        error=error,
    )


def return_to_unedited(connection: sa.Connection, claim: Claim, *, error: str) -> Claim | None:
    """CLAIMED/FINALIZING → UNEDITED (an editor must fix something); uploader kept for diagnosis."""
    return _write(
        connection,
        claim,
        (_S.CLAIMED, _S.FINALIZING),
        state=str(_S.UNEDITED),
        claimed_until=None,
        error=error,
    )


def note_finalizing_error(connection: sa.Connection, claim: Claim, *, error: str) -> Claim | None:
    """Stay FINALIZING with an operator message (the outcome of the upload is unknown)."""
    return _write(connection, claim, (_S.FINALIZING,), error=error, claimed_until=None)


def needs_thumbnail(edit: EditInputs) -> bool:
    """Whether the row's video gets a thumbnail at all."""
    return edit.thumbnail_mode is not ThumbnailMode.NONE
