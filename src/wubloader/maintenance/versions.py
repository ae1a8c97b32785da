"""Bad versions: start times held in more than one version across the cluster, and which one to keep.

Rule (documented in docs/operations.md): `full` over `suspect` over `partial`; then the version most
nodes hold; then the longest; then the lowest name, so every node decides the same. The losers get
tombstones here, and backfill spreads the decision. A moment with one version is never touched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.maintenance.peers import PeerHour
from wubloader.maintenance.scope import TimeRange, check_channel
from wubloader.store.errors import BadSegmentName
from wubloader.store.listing import (
    list_channels,
    list_hours,
    list_qualities,
    read_hour_names,
    split_hour_entries,
)
from wubloader.store.naming import Segment, SegmentType, parse_hour, parse_segment_name, tombstone_name
from wubloader.store.tombstones import add_tombstone
from wubloader.store.walk import hour_in_range

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    from wubloader.maintenance.peers import PeerListings
    from wubloader.store.tombstones import TombstoneNote

LOCAL = "local"
_RANK = {SegmentType.FULL: 0, SegmentType.SUSPECT: 1, SegmentType.PARTIAL: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    """One version of a moment and the nodes (`local` or peer URLs) that list it visibly."""

    segment: Segment
    holders: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.segment.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Moment:
    """A start time with several versions; `keep` is the one the rule chose."""

    channel: str
    quality: str
    hour: str
    start: datetime
    versions: tuple[Version, ...]
    keep: Version

    @property
    def losers(self) -> tuple[Version, ...]:
        return tuple(v for v in self.versions if v is not self.keep)


def choose_version(versions: Sequence[Version]) -> Version:
    """Full over suspect over partial, then most holders, then longest, then lowest name."""
    return min(versions, key=lambda v: (_RANK[v.segment.type], -len(v.holders), -v.segment.duration, v.name))


def moments_of_hour(
    channel: str, quality: str, hour: str, views: dict[str, PeerHour], span: TimeRange
) -> list[Moment]:
    """Moments with several versions in one hour, given every node's view (name sets) of that hour."""
    tombstoned = {t for view in views.values() for t in view.tombstones}
    holders: dict[str, list[str]] = defaultdict(list)
    for node, view in views.items():
        for name in view.segments:
            holders[name].append(node)
    by_start: dict[datetime, list[Version]] = defaultdict(list)
    hour_start = parse_hour(hour)
    for name, nodes in sorted(holders.items()):
        try:
            seg = parse_segment_name(hour_start, name, channel, quality)
        except BadSegmentName:
            continue
        if seg.type is SegmentType.TEMP or tombstone_name(name) in tombstoned:
            continue
        if span.contains(seg.start):
            by_start[seg.start].append(Version(segment=seg, holders=tuple(sorted(nodes))))
    return [
        Moment(
            channel=channel, quality=quality, hour=hour, start=at, versions=tuple(vs), keep=choose_version(vs)
        )
        for at, vs in sorted(by_start.items())
        if len(vs) > 1
    ]


def local_view(base: Path, channel: str, quality: str, hour: str) -> PeerHour:
    """This store's hour as a peer would list it."""
    segments, tombstones = split_hour_entries(read_hour_names(base / channel / quality / hour))
    return PeerHour(segments=frozenset(segments), tombstones=frozenset(tombstones))


async def find_moments(
    base: Path, nodes: Sequence[str], listings: PeerListings, channel: str | None, span: TimeRange
) -> list[Moment]:
    """Every moment in `span` held in several versions across this store and `nodes`.

    Raises PeerError if a node cannot be asked: a decision on a partial view could keep the wrong one.
    """
    found: list[Moment] = []
    for chan in [check_channel(base, channel)] if channel else await _channels(base, nodes, listings):
        for quality in await _qualities(base, nodes, listings, chan):
            for hour in await _hours(base, nodes, listings, chan, quality):
                if not hour_in_range(hour, span.start, span.end):
                    continue
                views = {LOCAL: local_view(base, chan, quality, hour)}
                for url in nodes:
                    views[url] = await listings.hour(url, chan, quality, hour)
                found.extend(moments_of_hour(chan, quality, hour, views, span))
    return found


async def _channels(base: Path, nodes: Sequence[str], listings: PeerListings) -> list[str]:
    names = set(list_channels(base))
    for url in nodes:
        names.update(await listings.channels(url))
    return _visible(names)


async def _qualities(base: Path, nodes: Sequence[str], listings: PeerListings, channel: str) -> list[str]:
    names = set(list_qualities(base, channel))
    for url in nodes:
        names.update(await listings.qualities(url, channel))
    return _visible(names)


async def _hours(
    base: Path, nodes: Sequence[str], listings: PeerListings, channel: str, quality: str
) -> list[str]:
    names = set(list_hours(base, channel, quality))
    for url in nodes:
        names.update(await listings.hours(url, channel, quality))
    return _visible(names)


def _visible(names: set[str]) -> list[str]:
    """Sorted names (peers' unsafe names were already dropped by PeerListings)."""
    return sorted(names)


def tombstone_losers(base: Path, moments: Sequence[Moment], note: TombstoneNote) -> list[Path]:
    """Tombstone every losing version here (backfill spreads them); returns the segment paths hidden."""
    hidden = []
    for moment in moments:
        for loser in moment.losers:
            path = base / moment.channel / moment.quality / moment.hour / loser.name
            if add_tombstone(path, note):
                hidden.append(path)
    return hidden
