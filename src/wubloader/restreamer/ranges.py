"""Turning a request's optional start/end into a concrete time window for one channel/quality."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wubloader.restreamer.errors import BadRequest, NotFound
from wubloader.store.listing import list_hours
from wubloader.store.naming import check_component, parse_hour

if TYPE_CHECKING:
    from pathlib import Path

ONE_HOUR = timedelta(hours=1)
# A missing end is the newest hour's end plus one hour of padding, so a live viewer does not see
# ENDLIST just because the newest hour directory happens to be complete (as in the original).
IMPLICIT_END_PADDING = timedelta(hours=1)
MAX_RANGE_SETTING = "--max-range"


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """[start, end) to serve; `live` when the client gave no end (the playlist keeps growing)."""

    start: datetime
    end: datetime
    live: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HourSpan:
    """The hours a quality has on disk: [first, last + 1 h); None when it has none."""

    first: datetime
    last: datetime

    @property
    def end(self) -> datetime:
        return self.last + ONE_HOUR


def quality_hours(base: Path, channel: str, quality: str) -> HourSpan | None:
    """The quality's hour span; raises NotFound if the quality directory does not exist."""
    check_component(channel)
    check_component(quality)
    if not (base / channel / quality).is_dir():
        raise NotFound(f"no such channel/quality: {channel[:64]}/{quality[:64]}")
    hours = list_hours(base, channel, quality)
    if not hours:
        return None
    return HourSpan(first=parse_hour(hours[0]), last=parse_hour(hours[-1]))


def hours_text(limit: timedelta) -> str:
    return f"{limit.total_seconds() / 3600:g} hours"


def check_range(start: datetime, end: datetime, limit: timedelta, setting: str) -> None:
    """BadRequest unless start < end and the range is at most `limit` long.

    Call it before any work for the range is done: a range from year 1001 to 9999 must cost nothing.
    `setting` names the option that raises the limit, so the 400 tells the client what bounds it.
    """
    if end <= start:
        raise BadRequest("end must be after start")
    if end - start > limit:
        raise BadRequest(f"range may not be longer than {hours_text(limit)} ({setting})")


def resolve_window(
    span: HourSpan | None,
    start: datetime | None,
    end: datetime | None,
    *,
    max_implicit: timedelta,
    max_range: timedelta,
) -> Window:
    """Fill a missing start (first hour) or end (newest hour end + padding) and validate the result.

    Raises NotFound when a bound is missing and there are no hours; BadRequest for start ≥ end, an
    explicit range longer than `max_range` or an implicit one longer than `max_implicit`.
    """
    if start is not None and end is not None:
        check_range(start, end, max_range, MAX_RANGE_SETTING)
    implicit = start is None or end is None
    if implicit and span is None:
        raise NotFound("no segments for this channel/quality")
    if start is None:
        assert span is not None
        start = span.first
    live = end is None
    if end is None:
        assert span is not None
        end = span.end + IMPLICIT_END_PADDING
    if end <= start:
        raise BadRequest("end must be after start")
    if implicit and end - start > max_implicit:
        raise BadRequest(f"implicit range may not be longer than {hours_text(max_implicit)}")
    return Window(start=start, end=end, live=live)


async def resolve_request_window(
    base: Path,
    channel: str,
    quality: str,
    start: datetime | None,
    end: datetime | None,
    *,
    max_implicit: timedelta,
    max_range: timedelta,
) -> Window:
    """`resolve_window` after listing the quality's hours off the event loop (explicit ranges are
    checked first, so a refused one costs no listing)."""
    if start is not None and end is not None:
        check_range(start, end, max_range, MAX_RANGE_SETTING)
    span = await asyncio.to_thread(quality_hours, base, channel, quality)
    return resolve_window(span, start, end, max_implicit=max_implicit, max_range=max_range)


async def quality_hours_async(base: Path, channel: str, quality: str) -> HourSpan | None:
    """`quality_hours` off the event loop (raises NotFound for a missing quality)."""
    return await asyncio.to_thread(quality_hours, base, channel, quality)
