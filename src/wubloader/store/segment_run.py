"""A whole hour of full segments kept as columns of its listing's strings, not as a record per file.

A first 24 h playlist reads 43,200 segments, and making a `Segment` (and its start time) for each was
most of its cost. An hour whose names all parse in bulk, are all `full` and have six-digit times is
kept as its names, their TIME texts and their offsets and durations; selection slices it, a playlist
renders it straight from the names, and `Segment`s are made, in bulk, only for what asks for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, overload

from wubloader.store.naming import HourColumns, Segment, SegmentType, segments_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, eq=False)
class SegmentRun(Sequence[Segment]):
    """Full segments of one hour directory (`folder`, with its trailing "/"), in time order.

    A sequence of `Segment`s: indexing makes one, slicing gives a run, iterating makes them all at
    once. `times` are the names' `MM:SS.ffffff`, `offsets` their starts after `hour_start`.
    """

    folder: str
    channel: str | None
    quality: str | None
    hour_start: datetime
    names: Sequence[str]
    times: Sequence[str]
    offsets: Sequence[timedelta]
    durations: Sequence[timedelta]

    @classmethod
    def of(
        cls,
        hour_start: datetime,
        names: Sequence[str],
        columns: HourColumns,
        channel: str | None,
        quality: str | None,
        folder: str,
    ) -> SegmentRun | None:
        """The run of `names` (sorted, parsed as `columns`), or None unless every one is full and
        has a six-digit time (a run renders its times from the names)."""
        if not columns.six_digit_times or columns.types.count(SegmentType.FULL) < len(names):
            return None
        return cls(
            folder=folder,
            channel=channel,
            quality=quality,
            hour_start=hour_start,
            names=names,
            times=columns.times,
            offsets=columns.offsets,
            durations=columns.durations,
        )

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, i: int) -> Segment: ...
    @overload
    def __getitem__(self, i: slice) -> SegmentRun: ...
    def __getitem__(self, i: int | slice) -> Segment | SegmentRun:
        if isinstance(i, slice):
            if i.step not in (None, 1):
                raise ValueError("a run is sliced without a step")
            return dataclasses.replace(
                self,
                names=self.names[i],
                times=self.times[i],
                offsets=self.offsets[i],
                durations=self.durations[i],
            )
        return Segment(
            folder=self.folder,
            name=self.names[i],
            channel=self.channel,
            quality=self.quality,
            start=self.hour_start + self.offsets[i],
            duration=self.durations[i],
            type=SegmentType.FULL,
        )

    def pick(self, indices: Sequence[int]) -> SegmentRun:
        """The run of the segments at `indices` (increasing)."""
        return dataclasses.replace(
            self,
            names=list(map(self.names.__getitem__, indices)),
            times=list(map(self.times.__getitem__, indices)),
            offsets=list(map(self.offsets.__getitem__, indices)),
            durations=list(map(self.durations.__getitem__, indices)),
        )

    def __iter__(self) -> Iterator[Segment]:
        return iter(self.segments())

    def __contains__(self, item: object) -> bool:
        return isinstance(item, Segment) and item.folder == self.folder and item in self.segments()

    def segments(self) -> list[Segment]:
        """Every segment of the run, made in bulk."""
        return segments_of(
            self.hour_start,
            self.names,
            self.offsets,
            self.durations,
            repeat(SegmentType.FULL),
            self.channel,
            self.quality,
            self.folder,
        )

    @property
    def end(self) -> datetime:
        return self.hour_start + self.offsets[-1] + self.durations[-1]

    @property
    def longest(self) -> timedelta:
        return max(self.durations)

    @property
    def is_partial(self) -> bool:
        """Never: every segment of a run is full (as for `Segment.is_partial`)."""
        return False
