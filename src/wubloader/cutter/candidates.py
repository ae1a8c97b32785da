"""Local checks before a claim: does this node hold the video (and thumbnail frame) a job needs?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.db.schema import ThumbnailMode
from wubloader.media.cut_plan import CutRange, Transition

if TYPE_CHECKING:
    from datetime import datetime

    from wubloader.db.cutter_jobs import CutJob
    from wubloader.store.naming import Segment
    from wubloader.store.selection import SegmentIndex

THUMBNAIL_MARGIN = timedelta(seconds=1)
# Video missing from this close to now is most likely still being downloaded or backfilled.
RECENT = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingData:
    """What this node lacks for a job: a range (1-based) with a hole, or the thumbnail's instant."""

    what: str
    recent: bool = False

    def note(self, node: str) -> str:
        """The informational, non-terminal `error` text set on the EDITED row."""
        if self.recent:
            why = "It ends less than 5 minutes ago, so it is probably not downloaded or backfilled yet"
        else:
            why = "It may be a real hole, or not yet backfilled from a peer"
        return (
            f"Node {node} does not have all the video needed: {self.what}. {why}; other nodes keep "
            f"trying. Check Allow Holes to publish what exists."
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CutInputs:
    """A job's cut in the engine's terms, with the chains this node has for it."""

    ranges: tuple[CutRange, ...]
    transitions: tuple[Transition | None, ...]
    chains: tuple[tuple[Segment | None, ...], ...]


def cut_inputs(job: CutJob, index: SegmentIndex, now: datetime) -> CutInputs | MissingData:
    """The job's ranges/transitions and local chains, or what is missing. Raises ValueError on bad rows
    (open ranges, missing channel) and store errors on unsafe channel/quality names."""
    edit = job.edit
    if not edit.video_ranges or edit.video_channel is None or edit.video_transitions is None:
        raise ValueError("the row has no ranges, transitions or channel")
    ranges = []
    for r in edit.video_ranges:
        if r.start is None or r.end is None:
            raise ValueError("a range has no start or end")
        ranges.append(CutRange(start=r.start, end=r.end))
    transitions = tuple(
        None if t is None else Transition(name=t.type, duration=t.duration) for t in edit.video_transitions
    )
    chains = []
    for number, cut_range in enumerate(ranges, 1):
        chain = tuple(
            index.best_segments(edit.video_channel, edit.video_quality, cut_range.start, cut_range.end)
        )
        has_video = any(seg is not None for seg in chain)
        if not has_video or (not edit.allow_holes and None in chain):
            return MissingData(
                what=f"range {number} ({cut_range.start.isoformat()} to "
                f"{cut_range.end.isoformat()}) of {edit.video_channel}/{edit.video_quality}",
                recent=cut_range.end > now - RECENT,
            )
        chains.append(chain)
    missing = _thumbnail_missing(job, index, now)
    if missing is not None:
        return missing
    return CutInputs(ranges=tuple(ranges), transitions=transitions, chains=tuple(chains))


def _thumbnail_missing(job: CutJob, index: SegmentIndex, now: datetime) -> MissingData | None:
    edit = job.edit
    if edit.thumbnail_mode not in (ThumbnailMode.BARE, ThumbnailMode.TEMPLATE) or job.has_thumbnail_image:
        return None
    when = edit.thumbnail_time
    if when is None:
        raise ValueError("the row has no thumbnail time")
    assert edit.video_channel is not None
    chain = index.best_segments(
        edit.video_channel, edit.video_quality, when - THUMBNAIL_MARGIN, when + THUMBNAIL_MARGIN
    )
    if any(seg is not None and seg.start <= when < seg.end for seg in chain):
        return None
    return MissingData(what=f"the thumbnail frame at {when.isoformat()}", recent=when > now - RECENT)
