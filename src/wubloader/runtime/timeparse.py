"""The one place timestamps are parsed and formatted; every datetime it returns is naive UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dateutil.parser import isoparse

from wubloader.runtime.errors import BadTimestamp

MAX_INPUT_LENGTH = 64
UTC_ONLY_FORMAT = "YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM]"
# Spelled with [0-9] rather than \d so non-ASCII digits never match.
_UTC_ONLY_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def quote_value(text: str) -> str:
    """Quote bad input for a one-line error: at most 64 characters, non-printables escaped."""
    return repr(text[:MAX_INPUT_LENGTH]) + ("…" if len(text) > MAX_INPUT_LENGTH else "")


def _bad(text: str, expected: str) -> BadTimestamp:
    return BadTimestamp(f"bad timestamp {quote_value(text)}: expected {expected}", text)


def to_naive_utc(value: datetime) -> datetime:
    """Convert an aware datetime to naive UTC; a naive one is taken to be UTC already and returned as is."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=None)
    return value.astimezone(UTC).replace(tzinfo=None)


def now_utc() -> datetime:
    """The current time as naive UTC; the default clock that components inject."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse(text: str) -> datetime:
    """Parse any ISO-8601 timestamp (as in HLS `EXT-X-PROGRAM-DATE-TIME`, CLI flags) to naive UTC.

    Accepts basic and extended formats, `T` or space between date and time, fractions of any
    length (truncated to microseconds) and `Z`, `±HH`, `±HHMM` or `±HH:MM` zones; an offset is
    applied, a missing zone means UTC. Surrounding whitespace is ignored. Raises BadTimestamp.
    """
    stripped = text.strip()
    if not stripped or len(stripped) > MAX_INPUT_LENGTH:
        raise _bad(text, "an ISO-8601 timestamp")
    try:
        value = isoparse(stripped)
    except (ValueError, OverflowError) as exc:
        raise _bad(text, "an ISO-8601 timestamp") from exc
    try:
        return to_naive_utc(value)
    except OverflowError as exc:
        raise _bad(text, "a timestamp within years 1..9999 in UTC") from exc


def parse_utc_only(text: str) -> datetime:
    """Parse a request parameter strictly: `YYYY-MM-DDTHH:MM:SS[.f…]` plus optional `Z` or `±HH:MM`.

    The fraction has 1 to 6 digits. Without a zone the time is UTC; an offset is honoured
    (converted to UTC), unlike the original, which silently dropped it. Returns naive UTC.
    Raises BadTimestamp (a WubloaderError and ValueError) with a one-line message for anything
    else, meant to become an HTTP 400.
    """
    match = _UTC_ONLY_RE.fullmatch(text)
    if match is None:
        raise _bad(text, UTC_ONLY_FORMAT)
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    micros = int((match[7] or "0").ljust(6, "0"))
    try:
        value = datetime(year, month, day, hour, minute, second, micros)
        offset = _parse_offset(match[8])
        return value - offset
    except (ValueError, OverflowError) as exc:
        raise _bad(text, f"a valid date and time as {UTC_ONLY_FORMAT}") from exc


def _parse_offset(zone: str | None) -> timedelta:
    """`None`/`Z` → 0, `+05:30` → 5 h 30 min; raises ValueError for offsets a clock cannot have."""
    if zone is None or zone == "Z":
        return timedelta(0)
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset out of range: {zone}")
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if zone[0] == "-" else offset


def format_utc(value: datetime) -> str:
    """Format as `2024-01-02T03:04:05.000006Z` (always microseconds, trailing Z); naive input is UTC.

    The output parses back identically with both `parse` and `parse_utc_only`.
    """
    # isoformat rather than strftime: glibc's %Y does not zero-pad years below 1000.
    return to_naive_utc(value).isoformat(timespec="microseconds") + "Z"


__all__ = [
    "UTC_ONLY_FORMAT",
    "BadTimestamp",
    "format_utc",
    "now_utc",
    "parse",
    "parse_utc_only",
    "quote_value",
    "to_naive_utc",
]
