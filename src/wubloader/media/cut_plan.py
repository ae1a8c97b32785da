"""Pure cut planning: request records, up-front validation, and which segments are copied or re-encoded.

No I/O here. Times inside a plan are seconds relative to a segment's start (its first frame), and
edges are snapped half a frame before the first kept frame, so float rounding never adds or loses one.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wubloader.media.errors import BadRange, BadTransition, TransitionOverHole
from wubloader.media.transitions import transition_kind
from wubloader.store.errors import ContainsHoles, NoSegments

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wubloader.store.naming import Segment

EPSILON = 1e-6


class CutType(enum.StrEnum):
    """rough: whole segments; fast/smart: copy the bulk, re-encode edges; full: re-encode everything."""

    ROUGH = "rough"
    FAST = "fast"
    SMART = "smart"
    FULL = "full"


@dataclass(frozen=True, slots=True, kw_only=True)
class CutRange:
    """[start, end) in naive UTC."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """An xfade transition (see media.transitions) of `duration` seconds between two ranges."""

    name: str
    duration: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyRun:
    """Contiguous whole segments copied as they are."""

    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """Frames [start_frame, end_frame) of one segment (end None = to its end), re-encoded."""

    segment: Segment
    start_frame: int
    end_frame: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A transition: `frames` frames of `outgoing` from out_frame mixed into `incoming` from in_frame."""

    outgoing: tuple[Segment, ...]
    out_frame: int
    incoming: tuple[Segment, ...]
    in_frame: int
    frames: int
    transition: Transition


Part = CopyRun | Edge | Window


def validate_cut(ranges: Sequence[CutRange], transitions: Sequence[Transition | None]) -> None:
    """Raise BadRange/BadTransition unless ranges are non-empty, ordered, and transitions fit them."""
    if not ranges:
        raise BadRange("at least one range is required")
    for rng in ranges:
        if rng.end <= rng.start:
            raise BadRange("ends must be after starts")
    if len(transitions) != len(ranges) - 1:
        raise BadTransition(
            f"{len(ranges)} ranges need {len(ranges) - 1} transitions, got {len(transitions)}"
        )
    for transition in transitions:
        if transition is None:
            continue
        transition_kind(transition.name)
        if not math.isfinite(transition.duration) or transition.duration <= 0:
            raise BadTransition("transition durations must be positive")
    for j, rng in enumerate(ranges):
        used = _duration(transitions, j - 1) + _duration(transitions, j)
        if used and used >= rng.seconds:
            raise BadTransition(f"range {j + 1} is too short for its transitions ({used}s of {rng.seconds}s)")


def _duration(transitions: Sequence[Transition | None], index: int) -> float:
    if not 0 <= index < len(transitions):
        return 0.0
    transition = transitions[index]
    return transition.duration if transition is not None else 0.0


def check_chains(chains: Sequence[Sequence[Segment | None]], *, allow_holes: bool) -> None:
    """NoSegments if a range has no segment at all; ContainsHoles if it has a hole and holes are refused."""
    for chain in chains:
        if not any(seg is not None for seg in chain):
            raise NoSegments("We have no content available within the requested time range.")
        if not allow_holes and any(seg is None for seg in chain):
            raise ContainsHoles("Requested time range contains holes or is incomplete.")


def first_frame_at(rel: float, frame: float) -> int:
    """Index of the first frame at or after `rel` seconds into a segment (frames at k·frame)."""
    return max(0, math.ceil(rel / frame - EPSILON))


def _seconds(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds()


def runs_between(
    chain: Sequence[Segment | None], a: datetime, b: datetime, frame: float
) -> list[list[Segment]]:
    """Contiguous runs of the chain's segments holding at least half a frame of [a, b), split at holes."""
    half = timedelta(seconds=frame / 2)
    runs: list[list[Segment]] = [[]]
    for seg in chain:
        if seg is None:
            runs.append([])
        elif seg.end > a + half and seg.start < b - half:
            runs[-1].append(seg)
    return [run for run in runs if run]


def plan_body(chain: Sequence[Segment | None], a: datetime, b: datetime, frame: float) -> list[Part]:
    """Parts for [a, b) of one range: edge segments re-encoded, whole segments copied, holes closed up."""
    parts: list[Part] = []
    for run in runs_between(chain, a, b, frame):
        first, last = run[0], run[-1]
        start = first_frame_at(_seconds(a, first.start), frame)
        end_rel = _seconds(b, last.start)
        end: int | None = first_frame_at(end_rel, frame)
        if end_rel > last.duration.total_seconds() - frame / 2:
            end = None
        if len(run) == 1 and (start > 0 or end is not None):
            if end is None or end > start:  # a sliver shorter than a frame holds no frame
                parts.append(Edge(segment=first, start_frame=start, end_frame=end))
            continue
        middle = run[1 if start > 0 else 0 : -1 if end is not None else None]
        if start > 0:
            parts.append(Edge(segment=first, start_frame=start, end_frame=None))
        if middle:
            parts.append(CopyRun(segments=tuple(middle)))
        if end is not None:
            parts.append(Edge(segment=last, start_frame=0, end_frame=end))
    return parts


def window_side(
    chain: Sequence[Segment | None], a: datetime, b: datetime, frame: float
) -> tuple[tuple[Segment, ...], int]:
    """The contiguous segments covering [a, b) and the index of a's frame in them; else TransitionOverHole."""
    runs = runs_between(chain, a, b, frame)
    half = timedelta(seconds=frame / 2)
    if len(runs) != 1 or runs[0][0].start > a + half or runs[0][-1].end < b - half:
        raise TransitionOverHole("a transition window falls on missing footage; use a hard cut there")
    run = runs[0]
    return tuple(run), first_frame_at(_seconds(a, run[0].start), frame)


def plan_parts(
    ranges: Sequence[CutRange],
    transitions: Sequence[Transition | None],
    chains: Sequence[Sequence[Segment | None]],
    frame: float,
) -> list[Part]:
    """All parts of a fast/smart cut in output order: each range's body, with transition windows between."""
    # Transition lengths are whole frames, used alike for the windows and the bodies around them.
    frames = [None if t is None else max(1, round(t.duration / frame)) for t in transitions]
    lengths = [None if n is None else timedelta(seconds=n * frame) for n in frames]
    parts: list[Part] = []
    for i, (rng, chain) in enumerate(zip(ranges, chains, strict=True)):
        incoming = lengths[i - 1] if i > 0 else None
        outgoing = lengths[i] if i < len(lengths) else None
        body_start = rng.start + incoming if incoming else rng.start
        body_end = rng.end - outgoing if outgoing else rng.end
        parts.extend(plan_body(chain, body_start, body_end, frame))
        transition, count = (
            transitions[i] if i < len(transitions) else None,
            frames[i] if i < len(frames) else None,
        )
        if outgoing is None or transition is None or count is None:
            continue
        nxt = ranges[i + 1]
        out_segs, out_frame = window_side(chain, body_end, rng.end, frame)
        in_segs, in_frame = window_side(chains[i + 1], nxt.start, nxt.start + outgoing, frame)
        parts.append(
            Window(
                outgoing=out_segs,
                out_frame=out_frame,
                incoming=in_segs,
                in_frame=in_frame,
                frames=count,
                transition=transition,
            )
        )
    if not any(isinstance(part, CopyRun | Edge) for part in parts):
        raise BadRange("the ranges hold no whole frame")
    return parts


def rough_segments(chains: Sequence[Sequence[Segment | None]]) -> list[Segment]:
    """Every segment of every range in order, holes skipped (a rough cut's input)."""
    return [seg for chain in chains for seg in chain if seg is not None]
