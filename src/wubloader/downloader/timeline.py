"""Segment start times and ad classification (pure): PDT, else EXTINF carry, else remembered, else clock.

Names must be identical on every node for identical segments, so the playlist's own clock wins;
the local clock is used only when the playlist carries no PROGRAM-DATE-TIME at all. Segments whose
duration or time no live stream can have are refused one by one (never the whole playlist).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wubloader.hls.parse_records import AdReason

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wubloader.hls.parse_records import AdRange, MediaSegment

# Before this, no segment of a live stream archived today was recorded.
EARLIEST_START = datetime(2000, 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plausibility:
    """What a live segment must satisfy to be stored: a 2 s stream never has a 1e6 s segment."""

    max_duration: float = 120.0
    max_future: timedelta = timedelta(days=1)
    earliest: datetime = EARLIEST_START


@dataclass(frozen=True, slots=True, kw_only=True)
class TimedSegment:
    """A segment with its start; `estimated` when it came from the local clock, not the playlist."""

    segment: MediaSegment
    start: datetime
    estimated: bool
    ad_reason: AdReason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A segment that will not be stored, and why (logged and counted by the worker)."""

    segment: MediaSegment
    reason: str
    implausible: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    timed: list[TimedSegment] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _bad_duration(segment: MediaSegment, limits: Plausibility) -> str | None:
    if segment.duration > limits.max_duration:
        return f"EXTINF {segment.duration:g} s is longer than the plausible {limits.max_duration:g} s"
    return None


def _bad_time(segment: MediaSegment, now: datetime, limits: Plausibility) -> str | None:
    pdt = segment.program_date_time
    if pdt is not None and not limits.earliest <= pdt <= now + limits.max_future:
        return f"PROGRAM-DATE-TIME {pdt.isoformat()} is implausible (local clock {now:%Y-%m-%d})"
    return None


def _runs(segments: Sequence[MediaSegment], refused: set[int]) -> list[list[int]]:
    """Indexes of segments, split where time cannot be carried (a skipped line, an untrusted EXTINF)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, segment in enumerate(segments):
        if i in refused or segment.gap_before:
            if current:
                runs.append(current)
            current = []
        if i not in refused:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def _run_starts(
    segments: Sequence[MediaSegment], run: list[int], known: dict[int, datetime], bad_pdt: set[int]
) -> dict[int, datetime]:
    """Starts within one run: forward from each anchor, and backward from the first one."""
    starts: dict[int, datetime] = {}
    current: datetime | None = None
    first_anchor: int | None = None
    for i in run:
        segment = segments[i]
        pdt = None if i in bad_pdt else segment.program_date_time
        anchor = pdt or known.get(segment.sequence)
        if anchor is not None and (pdt is not None or current is None):
            current = anchor
            first_anchor = i if first_anchor is None else first_anchor
        if current is not None:
            starts[i] = current
            current = _plus(current, segment.duration)
    if first_anchor is not None:
        when: datetime | None = starts[first_anchor]
        for i in reversed(run[: run.index(first_anchor)]):
            when = _plus(when, -segments[i].duration)
            if when is not None:
                starts[i] = when
    return starts


def _plus(when: datetime | None, seconds: float) -> datetime | None:
    if when is None:
        return None
    try:
        return when + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _is_ad(start: datetime, duration: float, ranges: Sequence[AdRange]) -> bool:
    """The tolerant rule: a segment is an ad when its *middle* lies inside a stitched-ad range.

    Twitch rounds an ad DATERANGE's DURATION up to the millisecond while segment times are truncated,
    so the first live segment after an ad can start up to 1 ms before the computed end of the ad;
    comparing midpoints is immune to such rounding on either edge.
    """
    middle = start + timedelta(seconds=duration / 2)
    return any(r.end is not None and r.start <= middle < r.end for r in ranges)


def assign_starts(
    segments: Sequence[MediaSegment],
    known: dict[int, datetime],
    now: datetime,
    limits: Plausibility | None = None,
    ad_ranges: Sequence[AdRange] = (),
) -> Timeline:
    """Give every usable segment a start time, and classify stitched ads.

    Order of trust: its PDT; the previous segment's start + EXTINF (forward, and backward from the
    first anchored segment) within a run of segments not split by a skipped line; a start remembered
    for its media sequence number (`known`); and, when nothing anchors the playlist, the local clock
    (the last segment ends now). Ads count: their durations carry the clock like any segment.
    Segments with an implausible duration or time are refused, never timed.
    """
    limits = limits or Plausibility()
    timeline = Timeline()
    bad_duration: set[int] = set()
    bad_pdt: set[int] = set()
    for i, segment in enumerate(segments):
        reason = _bad_duration(segment, limits)
        if reason is not None:
            bad_duration.add(i)  # its length is not trusted: time is not carried across it
        elif (reason := _bad_time(segment, now, limits)) is not None:
            bad_pdt.add(i)  # refused, but its EXTINF still carries time to its neighbours
        if reason is not None:
            timeline.refused.append(Refusal(segment=segment, reason=reason))
    runs = _runs(segments, bad_duration)
    starts: dict[int, datetime] = {}
    for run in runs:
        starts.update(_run_starts(segments, run, known, bad_pdt))
    estimated = not starts and bool(runs)
    if estimated:
        last = runs[-1][-1]
        anchor = {segments[last].sequence: _estimate(segments[last], now)}
        starts = _run_starts(segments, runs[-1], anchor, bad_pdt)
    for run in runs:
        for i in run:
            _place(timeline, segments[i], starts.get(i), i in bad_pdt, now, limits, ad_ranges, estimated)
    return timeline


def _place(
    timeline: Timeline,
    segment: MediaSegment,
    start: datetime | None,
    refused: bool,
    now: datetime,
    limits: Plausibility,
    ad_ranges: Sequence[AdRange],
    estimated: bool,
) -> None:
    """Add one segment of a run to the timeline (or to its refusals)."""
    if refused:
        return
    if start is None:
        reason = "no PROGRAM-DATE-TIME to time it after a skipped line"
        timeline.refused.append(Refusal(segment=segment, reason=reason, implausible=False))
    elif not limits.earliest <= start <= now + limits.max_future:
        timeline.refused.append(Refusal(segment=segment, reason=f"start {start} is implausible"))
    else:
        ad = segment.ad_reason
        if ad is None and ad_ranges and _is_ad(start, segment.duration, ad_ranges):
            ad = AdReason.DATERANGE
        timeline.timed.append(TimedSegment(segment=segment, start=start, estimated=estimated, ad_reason=ad))


def _estimate(segment: MediaSegment, now: datetime) -> datetime:
    return now - timedelta(seconds=segment.duration)


# Twitch sometimes serves a node segments whose PROGRAM-DATE-TIME jumps by a fraction of a segment
# and stays shifted until the connection is renewed; other nodes then store the same video under
# other start times. A jump this large without a DISCONTINUITY is not trusted.
SKEW_TOLERANCE = timedelta(milliseconds=10)


def find_skew(segments: Sequence[MediaSegment]) -> MediaSegment | None:
    """The first segment whose PROGRAM-DATE-TIME differs from the previous PDT + EXTINF by > 10 ms.

    A DISCONTINUITY legitimately restarts the clock, and a skipped line breaks the chain, so the
    segment after either is never a skew.
    """
    expected: datetime | None = None
    for segment in segments:
        pdt = segment.program_date_time
        if segment.gap_before:
            expected = None
        if pdt is not None and expected is not None and not segment.discontinuity:
            if abs(pdt - expected) > SKEW_TOLERANCE:
                return segment
        anchor = pdt if pdt is not None else expected
        expected = _plus(anchor, segment.duration)
    return None
