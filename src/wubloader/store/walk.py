"""Walking a store by channel, quality and time range: hours, visible segments and tombstones in a range."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.store.errors import BadSegmentName
from wubloader.store.listing import list_hours, list_segment_files
from wubloader.store.naming import Segment, SegmentType, parse_hour, parse_segment_name

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from pathlib import Path

logger = logging.getLogger(__name__)

ONE_HOUR = timedelta(hours=1)


def hour_in_range(hour: str, start: datetime | None, end: datetime | None) -> bool:
    """Whether the hour named `hour` can hold a segment starting in [start, end) (None = unbounded)."""
    hour_start = parse_hour(hour)
    return (start is None or hour_start + ONE_HOUR > start) and (end is None or hour_start < end)


def hours_in_range(
    base: Path, channel: str, quality: str, start: datetime | None, end: datetime | None
) -> list[str]:
    """Local hour names of channel/quality that may hold segments starting in [start, end), oldest first."""
    return [h for h in list_hours(base, channel, quality) if hour_in_range(h, start, end)]


def visible_segments(
    base: Path, channel: str, quality: str, start: datetime | None = None, end: datetime | None = None
) -> Iterator[Segment]:
    """Visible, non-temp segments starting in [start, end), in time order; unparseable names are skipped."""
    for hour in hours_in_range(base, channel, quality, start, end):
        hour_dir = base / channel / quality / hour
        hour_start = parse_hour(hour)
        for name in list_segment_files(hour_dir):
            try:
                seg = parse_segment_name(hour_start, name, channel, quality, str(hour_dir / name))
            except BadSegmentName:
                logger.warning("ignoring unparseable file %s", hour_dir / name)
                continue
            if seg.type is SegmentType.TEMP:
                continue
            if (start is None or seg.start >= start) and (end is None or seg.start < end):
                yield seg
