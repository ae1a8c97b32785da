"""Parse an events file (CSV with a header, or JSON lines) into SheetEvents, refusing it whole on a bad line.

Columns/keys: `id, sheet_name, event_start, event_end, category, description, notes, tags` (id and
sheet_name required). Timestamps are ISO-8601 (a zone is applied; none means UTC); `event_end` may be
`--` ("same as start"). CSV tags are comma-separated in one cell; JSON tags a list of strings.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from wubloader.db.errors import ImportRejected
from wubloader.db.event_records import SheetEvent
from wubloader.runtime.errors import BadTimestamp
from wubloader.runtime.timeparse import parse

if TYPE_CHECKING:
    from collections.abc import Iterator

COLUMNS = ("id", "sheet_name", "event_start", "event_end", "category", "description", "notes", "tags")
MAX_FIELD_LENGTH = 10_000


def parse_events_file(text: str, *, json_lines: bool | None = None) -> list[SheetEvent]:
    """All events of the file, or ImportRejected(line, reason) for the first bad line.

    `json_lines` None: JSON lines if the first non-blank character is `{`, else CSV.
    """
    if json_lines is None:
        json_lines = text.lstrip().startswith("{")
    records = _json_records(text) if json_lines else _csv_records(text)
    seen: set[str] = set()
    events = []
    for line, record in records:
        try:
            event = _sheet_event(record)
        except (ValueError, TypeError) as exc:
            raise ImportRejected(line, str(exc)) from None
        if event.id in seen:
            raise ImportRejected(line, f"duplicate id {event.id!r}")
        seen.add(event.id)
        events.append(event)
    return events


def _json_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportRejected(number, f"not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ImportRejected(number, "expected a JSON object")
        yield number, record


def _csv_records(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ImportRejected(1, f"bad CSV ({exc})") from None
    header = [name.strip() for name in header]
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ImportRejected(reader.line_num, f"expected {len(header)} cells, found {len(row)}")
            yield reader.line_num, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise ImportRejected(reader.line_num, f"bad CSV ({exc})") from None


def _text(record: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = record.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    if len(value) > MAX_FIELD_LENGTH:
        raise ValueError(f"{key} is longer than {MAX_FIELD_LENGTH} characters")
    if required and not value.strip():
        raise ValueError(f"{key} is required")
    return value.strip() if required else value


def _time(record: dict[str, Any], key: str) -> Any:
    value = _text(record, key).strip()
    if not value:
        return None
    try:
        return parse(value)
    except BadTimestamp as exc:
        raise ValueError(f"{key}: {exc}") from None


def _tags(record: dict[str, Any]) -> tuple[str, ...]:
    value = record.get("tags") or []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError("tags must be a list of strings (comma-separated in CSV)")
    return tuple(tag.strip() for tag in value if tag.strip())


def _sheet_event(record: dict[str, Any]) -> SheetEvent:
    unknown = sorted(set(record) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(unknown)}")
    start = _time(record, "event_start")
    dashed = _text(record, "event_end").strip() == "--"
    return SheetEvent(
        id=_text(record, "id", required=True),
        sheet_name=_text(record, "sheet_name", required=True),
        event_start=start,
        event_end=start if dashed else _time(record, "event_end"),
        event_end_dashed=dashed,
        category=_text(record, "category"),
        description=_text(record, "description"),
        notes=_text(record, "notes"),
        tags=_tags(record),
    )
