"""Pure decisions: which tombstones and segments an hour lacks, from which peers, in which order.

No I/O here: everything takes listings (sets of names) and the current time, so every rule —
tombstones first, never a tombstoned segment, skip temp / too-recent / near-duplicate / malformed
names — is tested without a network or a disk.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wubloader.store.cache import names_bytes
from wubloader.store.errors import BadSegmentName, UnsafePath
from wubloader.store.listing import split_hour_entries
from wubloader.store.naming import (
    SEGMENT_SUFFIX,
    TOMBSTONE_SUFFIX,
    SegmentType,
    check_component,
    parse_hour,
    parse_segment_name,
    segment_filename,
    tombstone_name,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

NEAR_DUPLICATE = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class HourListing:
    """One hour as listed by one node: visible segment names and tombstone names."""

    segments: frozenset[str]
    tombstones: frozenset[str]

    @classmethod
    def from_names(cls, names: Iterable[str]) -> HourListing:
        """Build from raw names (`.ts`, `.tombstone`, anything else ignored); tombstoned names are hidden."""
        segments, tombstones = split_hour_entries(names)
        return cls(segments=frozenset(segments), tombstones=frozenset(tombstones))


EMPTY_LISTING = HourListing(segments=frozenset(), tombstones=frozenset())


def listing_bytes(listing: HourListing) -> int:
    """Estimated memory of a listing (its two name sets and the record), for byte-bounded caches."""
    return sys.getsizeof(listing) + names_bytes(listing.segments) + names_bytes(listing.tombstones)


def valid_peer_name(name: str, hour_start: datetime) -> bool:
    """Whether a name a peer listed in the hour starting at `hour_start` is a segment or tombstone
    name this node could store: safe as a file name, parseable and plausible (see `parse_segment_name`).
    """
    if name.endswith(TOMBSTONE_SUFFIX):
        name = name[: -len(TOMBSTONE_SUFFIX)] + SEGMENT_SUFFIX
    if not safe_name(name):
        return False
    try:
        parse_segment_name(hour_start, name)
    except BadSegmentName:
        return False
    return True


def peer_listing(names: Iterable[str], hour: str) -> tuple[HourListing, int]:
    """A peer's hour listing without the names it may not hand us; returns (listing, refused count).

    Names that are neither segments nor tombstones are ignored as `from_names` does, not refused.
    """
    hour_start = parse_hour(hour)
    kept: list[str] = []
    refused = 0
    for name in names:
        if not (name.endswith(SEGMENT_SUFFIX) or name.endswith(TOMBSTONE_SUFFIX)):
            continue
        if valid_peer_name(name, hour_start):
            kept.append(name)
        else:
            refused += 1
    return HourListing.from_names(kept), refused


@dataclass(frozen=True, slots=True, kw_only=True)
class HourKey:
    """One channel x quality x hour directory (`hour` in HOUR_FORMAT, so strings sort by time)."""

    channel: str
    quality: str
    hour: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchJob:
    """One segment to copy, with the peers (keys) that list it, in preference order."""

    key: HourKey
    name: str
    start: datetime
    duration_text: str
    type: SegmentType
    hash: str
    peers: tuple[str, ...]

    @property
    def path_id(self) -> str:
        """`CHANNEL/QUALITY/HOUR/NAME`: identifies the file across peers (for retry memory)."""
        return f"{self.key.channel}/{self.key.quality}/{self.key.hour}/{self.name}"


@dataclass(slots=True)
class SkipCounts:
    """Why listed segments were not fetched (for logs and the `--once` verdict)."""

    temp: int = 0
    recent: int = 0
    duplicate: int = 0
    bad_name: int = 0
    tombstoned: int = 0
    tombstone_limit: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HourPlan:
    """What to do for one hour: create `tombstones` first, then fetch `fetches` (newest first)."""

    key: HourKey
    tombstones: tuple[str, ...]
    fetches: tuple[FetchJob, ...]
    skipped: SkipCounts = field(default_factory=SkipCounts)

    @property
    def in_sync(self) -> bool:
        """Nothing to do and nothing deferred: the hour matches every peer (cacheable)."""
        return not self.tombstones and not self.fetches and self.skipped.recent == 0


def safe_name(name: str) -> bool:
    """A peer-supplied name is usable as a local file name (no `/`, no leading `.`, printable)."""
    try:
        check_component(name)
    except UnsafePath:
        return False
    return True


def _parse_job(key: HourKey, hour_start: datetime, name: str) -> FetchJob | None:
    """The fetch job for `name`, or None if it is malformed or not in canonical form.

    Canonical form matters: the local copy is written under the name the store builds from the
    parsed fields, which must be the peer's exact name or the file would look missing forever.
    """
    if not safe_name(name):
        return None
    try:
        seg = parse_segment_name(hour_start, name)
    except BadSegmentName:
        return None
    duration_text = name[:-3].split("-", 3)[1]
    if seg.type is SegmentType.TEMP or seg.hash is None:
        return FetchJob(
            key=key, name=name, start=seg.start, duration_text=duration_text, type=seg.type, hash="", peers=()
        )
    if segment_filename(seg.start, duration_text, seg.type, seg.hash) != name:
        return None
    return FetchJob(
        key=key,
        name=name,
        start=seg.start,
        duration_text=duration_text,
        type=seg.type,
        hash=seg.hash,
        peers=(),
    )


class _DuplicateIndex:
    """Starts of segments by (hash, type, duration), to find near-duplicates in O(1) per lookup."""

    def __init__(self) -> None:
        self._starts: dict[tuple[str, SegmentType, str], list[datetime]] = defaultdict(list)

    def add(self, job: FetchJob) -> None:
        self._starts[(job.hash, job.type, job.duration_text)].append(job.start)

    def has_near(self, job: FetchJob) -> bool:
        starts = self._starts.get((job.hash, job.type, job.duration_text), ())
        return any(abs(start - job.start) <= NEAR_DUPLICATE for start in starts)


def plan_hour(
    key: HourKey,
    local: HourListing,
    peers: Mapping[str, HourListing],
    *,
    recent_limit: datetime | None,
    max_tombstones: int | None = None,
) -> HourPlan:
    """Diff one hour against every peer's listing.

    Tombstones any peer has and we lack are created first, as long as the hour then holds at most
    `max_tombstones` (None = no bound; the excess is counted, oldest names kept); a segment
    tombstoned anywhere (locally or on any peer) is never fetched. A missing segment becomes one
    job listing every peer that has it (sorted by peer key, the caller picks one). Skipped: `temp`
    names, segments starting after `recent_limit` (None = no limit), near-duplicates of local
    segments or of each other (same hash, type and duration, start within 1 ms) and malformed or
    non-canonical names.
    Jobs come newest first.
    """
    skipped = SkipCounts()
    new_tombstones = {
        name
        for listing in peers.values()
        for name in listing.tombstones - local.tombstones
        if safe_name(name)
    }
    all_tombstones = local.tombstones | new_tombstones
    if max_tombstones is not None and len(local.tombstones) + len(new_tombstones) > max_tombstones:
        room = max(0, max_tombstones - len(local.tombstones))
        skipped.tombstone_limit = len(new_tombstones) - room
        new_tombstones = set(sorted(new_tombstones)[:room])
    holders: dict[str, list[str]] = defaultdict(list)
    for peer_key in sorted(peers):
        for name in peers[peer_key].segments - local.segments:
            holders[name].append(peer_key)
    if not holders:
        return HourPlan(key=key, tombstones=tuple(sorted(new_tombstones)), fetches=(), skipped=skipped)
    hour_start = parse_hour(key.hour)
    local_index: _DuplicateIndex | None = None
    chosen = _DuplicateIndex()
    jobs: list[FetchJob] = []
    # Names sort by start: newest first, so which near-duplicate wins is deterministic.
    for name in sorted(holders, reverse=True):
        job = _parse_job(key, hour_start, name)
        reason = _skip_reason(name, job, all_tombstones, recent_limit)
        if reason is not None:
            setattr(skipped, reason, getattr(skipped, reason) + 1)
            continue
        assert job is not None
        if local_index is None:
            local_index = _local_duplicate_index(local.segments, key, hour_start)
        if local_index.has_near(job) or chosen.has_near(job):
            skipped.duplicate += 1
            continue
        chosen.add(job)
        jobs.append(dataclasses.replace(job, peers=tuple(holders[name])))
    jobs.sort(key=lambda j: (j.start, j.name), reverse=True)
    return HourPlan(key=key, tombstones=tuple(sorted(new_tombstones)), fetches=tuple(jobs), skipped=skipped)


def _skip_reason(
    name: str, job: FetchJob | None, tombstones: frozenset[str], recent_limit: datetime | None
) -> str | None:
    """The SkipCounts field saying why `name` is not fetched, or None to fetch it."""
    if tombstone_name(name) in tombstones:
        return "tombstoned"
    if job is None:
        return "bad_name"
    if job.type is SegmentType.TEMP:
        return "temp"
    if recent_limit is not None and job.start > recent_limit:
        return "recent"
    return None


def _local_duplicate_index(names: Iterable[str], key: HourKey, hour_start: datetime) -> _DuplicateIndex:
    index = _DuplicateIndex()
    for name in names:
        job = _parse_job(key, hour_start, name)
        if job is not None and job.type is not SegmentType.TEMP:
            index.add(job)
    return index


def order_hours(keys: Iterable[HourKey]) -> list[list[HourKey]]:
    """Group hour keys by hour, newest hour first; inside a group by channel then quality.

    This is the global work order: every channel and quality of the newest hour before any older hour.
    """
    by_hour: dict[str, list[HourKey]] = defaultdict(list)
    for key in set(keys):
        by_hour[key.hour].append(key)
    return [
        sorted(by_hour[hour], key=lambda k: (k.channel, k.quality)) for hour in sorted(by_hour, reverse=True)
    ]


def hour_in_range(hour: str, not_before: datetime | None) -> bool:
    """Whether an hour directory name is a valid hour that ends after `not_before` (None = all)."""
    try:
        start = parse_hour(hour)
    except BadSegmentName:
        return False
    return not_before is None or start + timedelta(hours=1) > not_before
