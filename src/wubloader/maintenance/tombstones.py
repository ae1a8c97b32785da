"""Tombstone operations: add (by path or range), status across peers, purge of hidden files once safe.

Purge deletes only a segment file whose tombstone exists here and on every peer; the tombstone itself
stays forever, so no backfill can bring the segment back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.maintenance.errors import PeerError
from wubloader.maintenance.scope import TimeRange, channel_qualities, check_channel
from wubloader.store.errors import BadSegmentName
from wubloader.store.listing import list_channels
from wubloader.store.naming import parse_hour, parse_segment_name
from wubloader.store.operator_paths import resolve_segment_path
from wubloader.store.tombstones import add_tombstone, hidden_segment_name, tombstone_names
from wubloader.store.walk import hours_in_range, visible_segments

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from wubloader.maintenance.peers import PeerListings
    from wubloader.store.tombstones import TombstoneNote


@dataclass(frozen=True, slots=True, kw_only=True)
class Added:
    """A segment path and whether this call created its tombstone (False: it already had one)."""

    path: Path
    new: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalTombstone:
    """A tombstone in this store: where (channel/quality/hour) and its name."""

    base: Path
    channel: str
    quality: str
    hour: str
    name: str

    @property
    def relative(self) -> str:
        return f"{self.channel}/{self.quality}/{self.hour}/{self.name}"

    @property
    def hidden_path(self) -> Path:
        """The segment file it hides (it may not exist here)."""
        return self.base / self.channel / self.quality / self.hour / hidden_segment_name(self.name)


def add_paths(paths: Sequence[Path], base: Path | None, note: TombstoneNote) -> list[Added]:
    """Tombstone each path; every path is checked before the first tombstone is made (all or nothing).

    Raises UnsafePath / BadSegmentName for a path outside the store or a name that is not a segment.
    """
    resolved = [resolve_segment_path(path, base) for path in paths]
    return [Added(path=r.path, new=add_tombstone(r.path, note)) for r in resolved]


def add_range(
    base: Path, channel: str, qualities: Sequence[str], span: TimeRange, note: TombstoneNote
) -> list[Added]:
    """Tombstone every visible segment of `channel` (the named qualities, or all) starting in `span`."""
    check_channel(base, channel)
    segments = [
        seg
        for quality in channel_qualities(base, channel, qualities)
        for seg in visible_segments(base, channel, quality, span.start, span.end)
    ]
    return [Added(path=Path(seg.path), new=add_tombstone(Path(seg.path), note)) for seg in segments]


def local_tombstones(base: Path, channel: str | None, span: TimeRange) -> Iterator[LocalTombstone]:
    """Tombstones in this store whose segment starts in `span` (of one channel, or all)."""
    channels = [check_channel(base, channel)] if channel else list_channels(base)
    for chan in channels:
        for quality in channel_qualities(base, chan):
            for hour in hours_in_range(base, chan, quality, span.start, span.end):
                hour_start = parse_hour(hour)
                for name in tombstone_names(base / chan / quality / hour):
                    try:
                        seg = parse_segment_name(hour_start, hidden_segment_name(name))
                    except BadSegmentName:
                        continue
                    if span.contains(seg.start):
                        yield LocalTombstone(base=base, channel=chan, quality=quality, hour=hour, name=name)


@dataclass(frozen=True, slots=True, kw_only=True)
class TombstoneStatus:
    """Which nodes have one tombstone, which lack it, which still list its segment, which did not answer."""

    tombstone: LocalTombstone
    present: tuple[str, ...]
    missing: tuple[str, ...]
    visible: tuple[str, ...]
    unreachable: tuple[str, ...]

    @property
    def everywhere(self) -> bool:
        return not self.missing and not self.unreachable


async def tombstone_status(
    tombstones: Sequence[LocalTombstone], nodes: Sequence[str], listings: PeerListings
) -> list[TombstoneStatus]:
    """Ask every node about every tombstone (one listing per node and hour)."""
    result = []
    for tomb in tombstones:
        present: list[str] = []
        missing: list[str] = []
        visible: list[str] = []
        unreachable: list[str] = []
        for url in nodes:
            try:
                hour = await listings.hour(url, tomb.channel, tomb.quality, tomb.hour)
            except PeerError:
                unreachable.append(url)
                continue
            (present if tomb.name in hour.tombstones else missing).append(url)
            if hidden_segment_name(tomb.name) in hour.segments:
                visible.append(url)
        result.append(
            TombstoneStatus(
                tombstone=tomb,
                present=tuple(present),
                missing=tuple(missing),
                visible=tuple(visible),
                unreachable=tuple(unreachable),
            )
        )
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class PurgeResult:
    """Files freed (path, bytes), files kept with the reason, and peers that could not be asked."""

    freed: tuple[tuple[Path, int], ...] = ()
    kept: tuple[tuple[Path, str], ...] = ()
    unreachable: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.kept and not self.unreachable


async def purge(
    tombstones: Sequence[LocalTombstone], nodes: Sequence[str], listings: PeerListings, *, dry_run: bool
) -> PurgeResult:
    """Delete each hidden segment file here once every node in `nodes` lists its tombstone.

    Every node is asked before anything is deleted; if any cannot be asked, nothing is deleted.
    A file is deleted only while its tombstone still exists here. With `dry_run`, nothing is deleted
    but `freed` says what would be.
    """
    candidates = [t for t in tombstones if t.hidden_path.exists()]
    statuses = await tombstone_status(candidates, nodes, listings)
    unreachable = tuple(sorted({url for s in statuses for url in s.unreachable}))
    if unreachable:
        return PurgeResult(unreachable=unreachable)
    freed: list[tuple[Path, int]] = []
    kept: list[tuple[Path, str]] = []
    for status in statuses:
        path = status.tombstone.hidden_path
        if status.missing:
            kept.append((path, "tombstone not yet on " + ", ".join(status.missing)))
            continue
        size = _delete_hidden(status.tombstone, dry_run)
        if size is not None:
            freed.append((path, size))
    return PurgeResult(freed=tuple(freed), kept=tuple(kept))


def _delete_hidden(tomb: LocalTombstone, dry_run: bool) -> int | None:
    """Delete the hidden file (if its tombstone is still here); its size, or None if already gone."""
    path = tomb.hidden_path
    if not path.with_name(tomb.name).exists():
        return None
    try:
        size = os.lstat(path).st_size
        if not dry_run:
            path.unlink()
    except FileNotFoundError:
        return None
    return size
