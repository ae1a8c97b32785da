"""Segment start times (pure): PROGRAM-DATE-TIME, else carried by EXTINF, else remembered, else estimated.

Names must be identical on every node for identical segments, so the playlist's own clock wins;
the local clock is used only when the playlist carries no PROGRAM-DATE-TIME at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from wubloader.hls.parse_records import MediaSegment


@dataclass(frozen=True, slots=True, kw_only=True)
class TimedSegment:
    """A segment with its start; `estimated` when it came from the local clock, not the playlist."""

    segment: MediaSegment
    start: datetime
    estimated: bool


def assign_starts(
    segments: tuple[MediaSegment, ...], known: dict[int, datetime], now: datetime
) -> list[TimedSegment]:
    """Give every segment a start time.

    Order of trust: its PDT; the previous segment's start + EXTINF (forward, and backward from the
    first anchored segment); a start remembered for its media sequence number (`known`, from an
    earlier poll of the same playlist); and, when nothing anchors the playlist, the local clock
    (the last segment ends now). Ads count: their durations carry the clock like any segment.
    """
    starts: list[datetime | None] = [None] * len(segments)
    current: datetime | None = None
    for i, segment in enumerate(segments):
        anchor = segment.program_date_time or known.get(segment.sequence)
        if anchor is not None and (segment.program_date_time is not None or current is None):
            current = anchor
        starts[i] = current
        if current is not None:
            current += timedelta(seconds=segment.duration)
    estimated = False
    first = next((i for i, s in enumerate(starts) if s is not None), None)
    if first is None and segments:
        estimated = True
        first = len(segments) - 1
        starts[first] = now - timedelta(seconds=segments[first].duration)
    if first is not None:
        when = starts[first]
        assert when is not None
        for i in range(first - 1, -1, -1):
            when -= timedelta(seconds=segments[i].duration)
            starts[i] = when
    return [
        TimedSegment(segment=segment, start=start, estimated=estimated)
        for segment, start in zip(segments, starts, strict=True)
        if start is not None
    ]


# Twitch sometimes serves a node segments whose PROGRAM-DATE-TIME jumps by a fraction of a segment
# and stays shifted until the connection is renewed; other nodes then store the same video under
# other start times. A jump this large without a DISCONTINUITY is not trusted.
SKEW_TOLERANCE = timedelta(milliseconds=10)


def find_skew(segments: tuple[MediaSegment, ...]) -> MediaSegment | None:
    """The first segment whose PROGRAM-DATE-TIME differs from the previous PDT + EXTINF by > 10 ms.

    A DISCONTINUITY legitimately restarts the clock, so the segment after one is never a skew.
    """
    expected: datetime | None = None
    for segment in segments:
        pdt = segment.program_date_time
        if pdt is not None and expected is not None and not segment.discontinuity:
            if abs(pdt - expected) > SKEW_TOLERANCE:
                return segment
        anchor = pdt if pdt is not None else expected
        expected = None if anchor is None else anchor + timedelta(seconds=segment.duration)
    return None
