"""Pydantic models of thrimshim's request bodies and query parameters (validation + OpenAPI schemas)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.runtime.timeparse import parse_utc_only
from wubloader.thrimshim.errors import BadRequest

MAX_TEXT = 10_000
MAX_LIST = 500


def _no_nul(value: Any) -> Any:
    # PostgreSQL TEXT cannot hold NUL; refuse it here rather than fail in the driver.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _timestamp(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a UTC ISO-8601 timestamp string")
    return parse_utc_only(value)


Text = Annotated[str, BeforeValidator(_no_nul), Field(max_length=MAX_TEXT, strict=True)]
Name = Annotated[str, BeforeValidator(_no_nul), Field(min_length=1, max_length=200, strict=True)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    Field(description="UTC ISO-8601 `YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM]`"),
]
Coord = Annotated[int, Field(strict=True, ge=-100_000, le=100_000)]
Box = tuple[Coord, Coord, Coord, Coord]
Seconds = Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)]


class Body(BaseModel):
    """Base of bodies: keys that are not inputs (an editor sends back the whole row) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class EditBody(Body):
    """POST /thrimshim/{id}: the edit inputs, the sheet columns as the editor saw them, and controls."""

    upload_location: Name | None
    video_ranges: (
        Annotated[list[tuple[Timestamp | None, Timestamp | None]], Field(max_length=MAX_LIST)] | None
    )
    video_transitions: Annotated[list[tuple[Name, Seconds] | None], Field(max_length=MAX_LIST)] | None
    video_channel: Name | None
    video_quality: Name
    video_title: Text | None
    video_description: Text | None
    video_tags: Annotated[list[Text], Field(max_length=MAX_LIST)] | None
    thumbnail_mode: ThumbnailMode
    public: StrictBool
    state: Literal[EventState.EDITED, EventState.UNEDITED, EventState.MODIFIED]
    sheet_name: Text
    event_start: Timestamp | None
    event_end: Timestamp | None
    category: Text
    description: Text
    notes: Text
    tags: Annotated[list[Text], Field(max_length=MAX_LIST)]
    allow_holes: StrictBool = False
    uploader_whitelist: Annotated[list[Name], Field(max_length=MAX_LIST)] | None = None
    thumbnail_time: Timestamp | None = None
    thumbnail_template: Name | None = None
    thumbnail_image: Annotated[str, Field(strict=True, max_length=4_000_000)] | None = None
    thumbnail_crop: Box | None = None
    thumbnail_location: Box | None = None
    override_changes: StrictBool = False
    row_version: StrictInt | None = None


# Edit inputs a submitted video must have (step 1 also requires their keys in every POST).
EDIT_NON_NULL = (
    "upload_location",
    "video_ranges",
    "video_transitions",
    "video_channel",
    "video_quality",
    "video_title",
    "video_description",
    "video_tags",
    "thumbnail_mode",
    "public",
)
# The sheet columns as the editor saw them, compared with the row to detect sheet changes.
SHEET_KEYS = ("sheet_name", "event_start", "event_end", "category", "description", "notes", "tags")
# Step 1 of the original's validation: these keys must be present (their values may be null).
EDIT_REQUIRED_KEYS = (*EDIT_NON_NULL, "state", *SHEET_KEYS)


class NewEventBody(Body):
    """POST /thrimshim/events: one event, sheet columns only."""

    id: Name
    sheet_name: Name
    event_start: Timestamp | None = None
    event_end: Timestamp | None = None
    category: Text = ""
    description: Text = ""
    notes: Text = ""
    tags: Annotated[list[Text], Field(max_length=MAX_LIST)] = []


class ManualLinkBody(Body):
    link: Annotated[str, BeforeValidator(_no_nul), Field(min_length=1, max_length=2000, strict=True)]
    upload_location: Name = "manual"


class TemplateBody(Body):
    """POST add-template / update-template: `image` is a base64 PNG (optional on update)."""

    name: Name
    image: Annotated[str, Field(strict=True, max_length=8_000_000)] | None = None
    description: Text = ""
    attribution: Text = ""
    crop: Box
    location: Box


class ListQuery(Body):
    state: EventState | None = Field(None, description="only events in this state")
    category: Text | None = Field(None, description="only events of this category")
    since: Timestamp | None = Field(None, description="only events starting at or after this time (or unset)")


class ResetQuery(Body):
    force: Literal["true", "false"] = Field(
        "false", description="reset from any state (`true`) or only cancel"
    )


def _refuse_constant(name: str) -> float:
    raise BadRequest(f"body is not valid JSON: {name} is not a number")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; BadRequest (one line) for anything else. NaN/Infinity refused."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise BadRequest("body is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise BadRequest("body is nested too deeply") from None
    if not isinstance(value, dict):
        raise BadRequest("body must be a JSON object")
    return value
