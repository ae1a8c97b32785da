"""Events as the API's JSON: the original's keys, timestamps as naive-UTC ISO strings, bytes as base64.

`event_json` is the listing form (no thumbnail bytes, `has_thumbnail_image` instead);
`decorated_event_json` is the single-row form the editor loads: title prefix and description block
stripped (so sending it back changes nothing), defaults filled in, the row version to send back.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wubloader.db.event_records import EDIT_FIELDS, SHEET_FIELDS, to_columns
from wubloader.db.schema import ThumbnailMode
from wubloader.thrimshim import description

if TYPE_CHECKING:
    from wubloader.db.event_records import Event
    from wubloader.db.playlists import Playlist
    from wubloader.thrimshim.config import ThrimshimConfig

_OUTPUT_FIELDS = (
    "state",
    "uploader",
    "error",
    "video_id",
    "video_link",
    "editor",
    "edit_time",
    "upload_time",
    "last_modified",
    "claimed_until",
    "row_version",
    "has_thumbnail_image",
)


def timestamp_json(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return timestamp_json(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


def event_json(event: Event) -> dict[str, Any]:
    """Every column by its original name (`event_end` as a plain timestamp), without thumbnail bytes:
    what `events.list_events_json` builds in SQL for listings."""
    values: dict[str, Any] = to_columns({name: getattr(event.sheet, name) for name in SHEET_FIELDS})
    values.update(to_columns({name: getattr(event.edit, name) for name in EDIT_FIELDS}))
    values.update({name: getattr(event, name) for name in _OUTPUT_FIELDS})
    del values["thumbnail_image"]
    # Ranges are already ISO strings with microseconds in their column form.
    return {key: _json_value(value) for key, value in values.items()}


def decorated_event_json(event: Event, config: ThrimshimConfig, playlists: list[Playlist]) -> dict[str, Any]:
    """The row for the editor, with defaults and the fields that POST must send back."""
    values = event_json(event)
    edit = event.edit
    image = edit.thumbnail_image if edit.thumbnail_mode is ThumbnailMode.CUSTOM else None
    values["thumbnail_image"] = _json_value(image)
    values["thumbnail_last_written"] = _json_value(event.thumbnail_last_written)
    values["video_channel"] = edit.video_channel or config.default_channel
    if edit.video_title is not None:
        values["video_title"] = description.strip_title(config.title_prefix, edit.video_title)
    if edit.video_description is not None:
        values["video_description"] = description.strip_description(
            edit.video_description, config.description_footer
        )
    if edit.thumbnail_template is None:
        values["thumbnail_template"] = default_template(playlists, event.sheet.tags)
    if edit.thumbnail_time is None and event.sheet.event_start is not None:
        start, end = event.sheet.event_start, event.sheet.event_end
        values["thumbnail_time"] = timestamp_json(start if end is None else start + (end - start) / 2)
    values.update({k: v for k, v in defaults_json(config).items() if k != "video_channel"})
    return values


def default_template(playlists: list[Playlist], tags: tuple[str, ...]) -> str | None:
    """The template of the playlist (of at most one tag) matching the event's LAST matching tag, else
    the template of the all-videos playlist (empty tags)."""
    by_tag = {
        p.tags[0].lower(): p.default_template
        for p in playlists
        if p.default_template and p.tags is not None and len(p.tags) == 1
    }
    for tag in reversed(tags):
        if tag.lower() in by_tag:
            return by_tag[tag.lower()]
    return next((p.default_template for p in playlists if p.default_template and p.tags == ()), None)


def defaults_json(config: ThrimshimConfig) -> dict[str, Any]:
    return {
        "video_channel": config.default_channel,
        "bustime_start": timestamp_json(config.bustime_start),
        "title_prefix": config.title_prefix,
        "title_max_length": config.title_max_length,
        "upload_locations": list(config.upload_locations),
    }
