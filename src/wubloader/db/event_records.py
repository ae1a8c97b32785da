"""The events table's records as frozen dataclasses, and their exact conversion to and from columns.

`video_ranges` are stored as `[["2024-01-02T03:04:05.000000", …], …]` (microsecond ISO, naive UTC),
transitions as `[null | ["fade", 1.5], …]`, arrays as JSON lists, box coordinates as 4-int lists: the
same text on both engines, so what is written is exactly what is read back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wubloader.db.schema import EventState, ThumbnailMode

if TYPE_CHECKING:
    from collections.abc import Callable

Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoRange:
    """One range of the cut; a draft may leave an end open (None)."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A transition between two ranges: xfade name and seconds (a None in the list = hard cut)."""

    type: str
    duration: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetEvent:
    """The sheet columns of one event: what `events import` and `POST /thrimshim/events` write."""

    id: str
    sheet_name: str
    event_start: datetime | None = None
    event_end: datetime | None = None
    event_end_dashed: bool = False
    category: str = ""
    description: str = ""
    submitter_winner: str = ""
    poster_moment: bool = False
    image_links: tuple[str, ...] = ()
    notes: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class EditInputs:
    """The edit columns an editor sets (thrimshim writes them, the cutter reads them)."""

    allow_holes: bool = False
    uploader_whitelist: tuple[str, ...] | None = None
    upload_location: str | None = None
    public: bool = True
    video_ranges: tuple[VideoRange, ...] | None = None
    video_transitions: tuple[Transition | None, ...] | None = None
    video_title: str | None = None
    video_description: str | None = None
    video_tags: tuple[str, ...] | None = None
    video_channel: str | None = None
    video_quality: str = "source"
    thumbnail_mode: ThumbnailMode = ThumbnailMode.TEMPLATE
    thumbnail_time: datetime | None = None
    thumbnail_template: str | None = None
    thumbnail_image: bytes | None = None
    thumbnail_crop: Box | None = None
    thumbnail_location: Box | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A whole events row: sheet columns, edit columns, then state and outputs.

    Listings leave `edit.thumbnail_image` None; `has_thumbnail_image` says whether one is stored.
    """

    sheet: SheetEvent
    edit: EditInputs
    state: EventState = EventState.UNEDITED
    uploader: str | None = None
    error: str | None = None
    video_id: str | None = None
    video_link: str | None = None
    editor: str | None = None
    edit_time: datetime | None = None
    upload_time: datetime | None = None
    last_modified: datetime | None = None
    thumbnail_last_written: bytes | None = None
    claimed_until: datetime | None = None
    row_version: int = 1
    has_thumbnail_image: bool = False


SHEET_FIELDS = tuple(f.name for f in dataclasses.fields(SheetEvent))
EDIT_FIELDS = tuple(f.name for f in dataclasses.fields(EditInputs))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds")


def _from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def ranges_to_column(ranges: tuple[VideoRange, ...] | None) -> list[list[str | None]] | None:
    return None if ranges is None else [[_iso(r.start), _iso(r.end)] for r in ranges]


def ranges_from_column(value: list[list[str | None]] | None) -> tuple[VideoRange, ...] | None:
    if value is None:
        return None
    return tuple(VideoRange(start=_from_iso(start), end=_from_iso(end)) for start, end in value)


def transitions_to_column(items: tuple[Transition | None, ...] | None) -> list[list[Any] | None] | None:
    if items is None:
        return None
    return [None if t is None else [t.type, t.duration] for t in items]


def transitions_from_column(value: list[list[Any] | None] | None) -> tuple[Transition | None, ...] | None:
    if value is None:
        return None
    return tuple(None if t is None else Transition(type=str(t[0]), duration=float(t[1])) for t in value)


def _tuple_or_none(value: list[Any] | None) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


_TO_COLUMN: dict[str, Callable[[Any], Any]] = {
    "video_ranges": ranges_to_column,
    "video_transitions": transitions_to_column,
    "image_links": list,
    "tags": list,
    "uploader_whitelist": lambda v: None if v is None else list(v),
    "video_tags": lambda v: None if v is None else list(v),
    "thumbnail_crop": lambda v: None if v is None else list(v),
    "thumbnail_location": lambda v: None if v is None else list(v),
    "thumbnail_mode": str,
}
_FROM_COLUMN: dict[str, Callable[[Any], Any]] = {
    "video_ranges": ranges_from_column,
    "video_transitions": transitions_from_column,
    "image_links": tuple,
    "tags": tuple,
    "uploader_whitelist": _tuple_or_none,
    "video_tags": _tuple_or_none,
    "thumbnail_crop": _tuple_or_none,
    "thumbnail_location": _tuple_or_none,
    "thumbnail_mode": ThumbnailMode,
    "state": EventState,
}


def to_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Dataclass field values → column values (only the keys given)."""
    return {key: _TO_COLUMN[key](value) if key in _TO_COLUMN else value for key, value in values.items()}


def event_from_row(row: dict[str, Any]) -> Event:
    """A row mapping (columns plus `has_thumbnail_image`) → Event."""
    values = {
        key: _FROM_COLUMN[key](value) if key in _FROM_COLUMN and value is not None else value
        for key, value in row.items()
    }
    values["has_thumbnail_image"] = bool(values.get("has_thumbnail_image"))
    sheet = SheetEvent(**{key: values.pop(key) for key in SHEET_FIELDS})
    edit = EditInputs(**{key: values.pop(key) for key in EDIT_FIELDS if key in values})
    return Event(sheet=sheet, edit=edit, **values)
