"""The edit service: one transaction that checks an editor's POST against the row and applies it.

Order of checks (after the body's own rules in edit_rules): row exists (404), stored title and
description fit (400), state allows the request (403), sheet columns unchanged (409), row version
unchanged (409 naming the fields another editor changed), then the guarded update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wubloader.db import events, playlists, templates
from wubloader.db.event_records import EDIT_FIELDS, EditInputs, Event, to_columns
from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.thrimshim import description, edit_rules
from wubloader.thrimshim.errors import BadRequest, Conflict, Forbidden, NotFound
from wubloader.thrimshim.schemas import SHEET_KEYS

if TYPE_CHECKING:
    from datetime import datetime

    import sqlalchemy as sa

    from wubloader.thrimshim.config import ThrimshimConfig
    from wubloader.thrimshim.schemas import EditBody


@dataclass(frozen=True, slots=True, kw_only=True)
class EditRequest:
    """A validated POST: the body, who sent it, when, and the inputs derived without the database."""

    body: EditBody
    editor: str
    now: datetime
    config: ThrimshimConfig


def apply_edit(connection: sa.Connection, event_id: str, request: EditRequest) -> int:
    """Check and apply one edit; returns the row's new version. Raises ThrimshimError subclasses."""
    body = request.body
    event = events.get_event(connection, event_id, lock=True)
    if event is None:
        raise NotFound(f"Row id = {event_id} not found")
    edit = _edit_inputs(connection, event, request)
    _check_state(event, body.state)
    if not body.override_changes:
        _check_sheet_drift(event, body)
        _check_version(event, body, edit)
    if body.state is EventState.MODIFIED:
        changes = {name: getattr(edit, name) for name in events.MODIFIABLE_FIELDS}
        moved = events.modify_published(
            connection, event_id, changes, editor=request.editor, now=request.now, version=event.row_version
        )
    else:
        moved = events.save_edit(
            connection,
            event_id,
            edit,
            state=body.state,
            editor=request.editor,
            now=request.now,
            version=event.row_version,
        )
    if not moved:
        raise Conflict("Video changed state while we were updating - maybe it was reset?")
    return event.row_version + 1


def _edit_inputs(connection: sa.Connection, event: Event, request: EditRequest) -> EditInputs:
    body, config = request.body, request.config
    if body.state is not EventState.UNEDITED:
        edit_rules.check_non_null(body)
    ranges, transitions = edit_rules.check_ranges(body)
    edit_rules.check_location(body, config.upload_locations)
    image = edit_rules.decode_thumbnail(body, event.edit.thumbnail_image)
    credit = _template_credit(connection, body)
    title = (
        None if body.video_title is None else description.compose_title(config.title_prefix, body.video_title)
    )
    text = None
    if body.video_description is not None:
        listed = description.listed_playlists(playlists.list_playlists(connection), body.video_tags or ())
        text = description.compose_description(
            body.video_description, playlists=listed, credit=credit, footer=config.description_footer
        )
    edit_rules.check_text(title, text)
    return EditInputs(
        allow_holes=body.allow_holes,
        uploader_whitelist=None if body.uploader_whitelist is None else tuple(body.uploader_whitelist),
        upload_location=body.upload_location,
        public=body.public,
        video_ranges=ranges,
        video_transitions=transitions,
        video_title=title,
        video_description=text,
        video_tags=None if body.video_tags is None else tuple(body.video_tags),
        video_channel=body.video_channel,
        video_quality=body.video_quality,
        thumbnail_mode=body.thumbnail_mode,
        thumbnail_time=body.thumbnail_time,
        thumbnail_template=body.thumbnail_template,
        thumbnail_image=image,
        thumbnail_crop=body.thumbnail_crop,
        thumbnail_location=body.thumbnail_location,
    )


def _template_credit(connection: sa.Connection, body: EditBody) -> str | None:
    if body.thumbnail_template is None:
        return None
    template = templates.get_template(connection, body.thumbnail_template)
    if template is None:
        raise BadRequest(f"unknown thumbnail_template {body.thumbnail_template[:64]!r}")
    return template.attribution if body.thumbnail_mode is ThumbnailMode.TEMPLATE else None


def _check_state(event: Event, wanted: EventState) -> None:
    if wanted is EventState.MODIFIED:
        if event.state not in events.PUBLISHED_STATES:
            raise Forbidden(f"Video is in state {event.state} and cannot be modified")
    elif event.state not in events.EDITABLE_STATES:
        raise Forbidden("Video already published")


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, list | tuple):
        return sorted(_normal(item) for item in value)
    return value


def _check_sheet_drift(event: Event, body: EditBody) -> None:
    current = events.sheet_values(event)
    changed = [
        f"{key}: {getattr(body, key)!s} => {current[key]!s}"
        for key in SHEET_KEYS
        if _normal(getattr(body, key)) != _normal(current[key])
    ]
    if changed:
        raise Conflict(
            "Sheet columns have changed since editing has begun. Please review changes: " + "; ".join(changed)
        )


def _check_version(event: Event, body: EditBody, edit: EditInputs) -> None:
    """Refuse an edit made from an older version if it would overwrite fields someone else changed."""
    if body.row_version is None or body.row_version == event.row_version:
        return
    mine = to_columns({name: getattr(edit, name) for name in EDIT_FIELDS})
    theirs = to_columns({name: getattr(event.edit, name) for name in EDIT_FIELDS})
    changed = [name for name in EDIT_FIELDS if mine[name] != theirs[name]]
    if event.state is not body.state and event.state is not EventState.CLAIMED:
        changed.append("state")
    if changed:
        raise Conflict(
            f"Row changed since you loaded it (version {body.row_version}, now "
            f"{event.row_version}); changed fields: {', '.join(changed)}. "
            "Reload it, or submit with override_changes"
        )
