"""Best segments for a time range, with hole markers, over a cached per-hour index.

Each hour directory is indexed once (best version per start time, plus the greedy chain walked from the
hour's first segment) and kept until the directory changes. A range walk then only does per-segment work
at hour joins and range edges; inside an hour it extends the result with a slice of the precomputed chain.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count, islice, takewhile
from operator import add, attrgetter, eq, sub
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from wubloader.store.cache import ByteBudgetLRU, names_bytes
from wubloader.store.errors import ContainsHoles
from wubloader.store.listing import read_hour_names, split_hour_entries
from wubloader.store.naming import (
    HourColumns,
    Segment,
    SegmentType,
    check_component,
    hour_columns,
    hour_name,
    parse_hour_names,
)
from wubloader.store.segment_run import SegmentRun

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)

ALLOWABLE_GAP = timedelta(milliseconds=10)
ONE_HOUR = timedelta(hours=1)
# A segment longer than both of these is a bad EXTINF, not content: kept, it would overlap (and so
# hide) every later segment of its hour, and as the longest `full` version it would win its start.
PLAUSIBLE_DURATION = timedelta(seconds=60)
IMPLAUSIBLE_FACTOR = 10  # x the hour's median duration
# The index cache's default budget: an hour of 2 s segments costs about 0.6 MB, so ~100 hours.
INDEX_CACHE_BYTES = 64 * 1024 * 1024
# Hour directories listed at once when a range needs several (cold reads overlap; 4 measured best).
LISTING_THREADS = 4
# Memory per parsed segment (record, start time, the slots of the segments, candidates and starts
# sequences) and per position of a chain with holes (list slot, end key), beside the names' own
# bytes (shared with the records); measured with tracemalloc (tests/store/test_selection.py).
SEGMENT_BYTES = 190
CHAIN_BYTES = 120
# Memory per segment of an hour kept as a run: its TIME text and four list slots.
RUN_BYTES = 95

# Field readers for `map`: whole-hour passes run in C instead of a Python expression per segment.
_START, _END, _DURATION, _TYPE = (
    attrgetter("start"),
    attrgetter("end"),
    attrgetter("duration"),
    attrgetter("type"),
)

# A hole in a best-segments chain.
HOLE = None
Chain = list[Segment | None]
# The same chain with whole stretches of an hour left as runs (see `SegmentIndex.best_pieces`).
Pieces = list[Segment | SegmentRun | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class HourIndex:
    """The best version per start time of one hour, and the greedy chain walked from its first one."""

    candidates: Sequence[Segment] = ()
    starts: Sequence[datetime] = ()
    max_duration: timedelta = timedelta(0)
    chain: Sequence[Segment | None] = ()
    chain_end_keys: Sequence[datetime] = ()
    chain_pos: Sequence[int] = ()


EMPTY_HOUR = HourIndex()


def choose_best_version(versions: Sequence[Segment], size_of: Callable[[Segment], int]) -> Segment | None:
    """Full (longest, then largest, then highest hash), else suspect, else partial (largest); temp never."""
    usable = [s for s in versions if s.type is not SegmentType.TEMP]
    if len(usable) <= 1:
        return usable[0] if usable else None
    full = [s for s in usable if s.type is SegmentType.FULL]
    if full:
        return max(full, key=lambda s: (s.duration, size_of(s), s.hash or ""))
    return max(usable, key=lambda s: (s.type is SegmentType.SUSPECT, size_of(s)))


def best_per_start(segments: Iterable[Segment], size_of: Callable[[Segment], int]) -> list[Segment]:
    """Group time-ordered segments by identical start and keep the best version of each."""
    segments = list(segments)
    starts = list(map(_START, segments))
    if not any(map(eq, starts, islice(starts, 1, None))):  # the usual hour: one version per start
        # Counted, not put in a set: an enum member's hash is a Python call.
        if not list(map(_TYPE, segments)).count(SegmentType.TEMP):
            return segments
        return [s for s in segments if s.type is not SegmentType.TEMP]
    result: list[Segment] = []
    group: list[Segment] = []
    for seg in segments:
        if group and seg.start != group[0].start:
            best = choose_best_version(group, size_of)
            if best is not None:
                result.append(best)
            group = []
        group.append(seg)
    if group:
        best = choose_best_version(group, size_of)
        if best is not None:
            result.append(best)
    return result


def drop_implausible(segments: list[Segment]) -> list[Segment]:
    """The segments without those longer than PLAUSIBLE_DURATION and IMPLAUSIBLE_FACTOR x the median."""
    if not segments or max(map(_DURATION, segments)) <= PLAUSIBLE_DURATION:
        return segments  # the common case costs one pass
    durations = sorted(s.duration for s in segments)
    limit = max(PLAUSIBLE_DURATION, durations[(len(durations) - 1) // 2] * IMPLAUSIBLE_FACTOR)
    kept = [s for s in segments if s.duration <= limit]
    for seg in segments:
        if seg.duration > limit:
            logger.warning("ignoring %s: its duration is implausible beside its neighbours'", seg.path)
    return kept


def build_hour_index(candidates: list[Segment]) -> HourIndex:
    """Precompute the greedy chain from the hour's first candidate (see `best_segments`)."""
    if not candidates:
        return EMPTY_HOUR
    starts = list(map(_START, candidates))
    durations = list(map(_DURATION, candidates))
    if _seamless(candidates, starts, durations):  # the usual hour: the chain is every candidate, shared
        chain: Sequence[Segment | None] = candidates
        keys: Sequence[datetime] = _Times(candidates, _END)  # seamless: ends never go back
        pos: Sequence[int] = range(len(candidates))
    else:
        chain, keys, pos = _walk_chain(candidates)
    return HourIndex(
        candidates=candidates,
        starts=starts,
        max_duration=max(durations),
        chain=chain,
        chain_end_keys=keys,
        chain_pos=pos,
    )


class _Times(Sequence[datetime]):
    """A time of each of `segments` (`_START` or `_END`; sorted, for bisect), computed when bisect
    asks for one instead of kept as an object per segment."""

    __slots__ = ("_field", "_segments")

    def __init__(self, segments: Sequence[Segment], field: Callable[[Segment], datetime]) -> None:
        self._segments = segments
        self._field = field

    def __len__(self) -> int:
        return len(self._segments)

    @overload
    def __getitem__(self, i: int) -> datetime: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[datetime]: ...
    def __getitem__(self, i: int | slice) -> datetime | Sequence[datetime]:
        if isinstance(i, slice):
            return list(map(self._field, self._segments[i]))
        return self._field(self._segments[i])


def _seamless(candidates: list[Segment], starts: list[datetime], durations: list[timedelta]) -> bool:
    """Every candidate but the last is full, each starts within ALLOWABLE_GAP of the previous one's
    end, and the ends never go back: `_walk_chain` would then take them all, with no hole."""
    if list(map(_TYPE, candidates[:-1])).count(SegmentType.FULL) < len(candidates) - 1:
        return False
    return _contiguous(starts, durations)


def _contiguous(starts: Sequence[Any], durations: Sequence[timedelta]) -> bool:
    """Each start (a time, or an offset into the hour) within ALLOWABLE_GAP of the previous end,
    and the ends never going back."""
    duration = durations[0]
    if durations.count(duration) == len(durations):  # the usual hour, one length: ends step as starts do
        steps = list(map(sub, starts[1:], starts[:-1]))
        lowest = max(duration - ALLOWABLE_GAP, timedelta(0))
        return not steps or (lowest <= min(steps) and max(steps) <= duration + ALLOWABLE_GAP)
    ends = list(map(add, starts, durations))
    gaps = list(map(sub, starts[1:], ends[:-1]))
    steps = list(map(sub, ends[1:], ends[:-1]))
    return not gaps or (
        -ALLOWABLE_GAP <= min(gaps) and max(gaps) <= ALLOWABLE_GAP and min(steps) >= timedelta(0)
    )


def _run_index(run: SegmentRun) -> HourIndex | None:
    """The index of an hour kept as a run, when `build_hour_index` would take every one of its
    segments (nothing implausible, one version per start, seamless), else None."""
    offsets, durations, longest = run.offsets, run.durations, run.longest
    if (
        longest > PLAUSIBLE_DURATION
        or any(map(eq, offsets, islice(offsets, 1, None)))
        or not _contiguous(offsets, durations)
    ):
        return None
    return HourIndex(
        candidates=run,
        starts=_Times(run, _START),
        max_duration=longest,
        chain=run,
        chain_end_keys=_Times(run, _END),
        chain_pos=range(len(run)),
    )


def _walk_chain(candidates: list[Segment]) -> tuple[Chain, list[datetime], list[int]]:
    """The greedy chain, its sorted end keys and each candidate's position in it (-1: skipped)."""
    chain: Chain = [candidates[0]]
    pos = [0] + [-1] * (len(candidates) - 1)
    keys = [candidates[0].end]
    last = candidates[0]
    for i in range(1, len(candidates)):
        seg = candidates[i]
        gap = seg.start - last.end
        if gap < -ALLOWABLE_GAP:
            continue
        if last.is_partial or gap > ALLOWABLE_GAP:
            chain.append(HOLE)
            keys.append(keys[-1])
        pos[i] = len(chain)
        chain.append(seg)
        # A running max keeps the keys sorted for bisect even around zero-length segments.
        keys.append(max(keys[-1], seg.end))
        last = seg
    return chain, keys, pos


@dataclass(slots=True)
class _CachedHour:
    mtime_ns: int
    names: tuple[str, ...]  # the directory's entries, sorted
    segments: Sequence[Segment]  # every parsed visible one (a run, or a tuple), sharing `names`' strings
    index: HourIndex
    unparseable: frozenset[str] = frozenset()  # visible names that did not parse (warned about once)
    records: list[Segment] | None = None  # a run's records, once `best_segments` needed them

    def size(self) -> int:
        """Estimated bytes held (names, parsed segments, index), for the cache's byte budget."""
        index = self.index
        chain = 0 if index.chain is index.candidates else CHAIN_BYTES * len(index.chain)  # shared if seamless
        per_segment = RUN_BYTES if isinstance(self.segments, SegmentRun) else SEGMENT_BYTES
        if self.records is not None:
            per_segment += SEGMENT_BYTES
        return names_bytes(self.names) + per_segment * len(self.segments) + chain


@dataclass(slots=True)
class _Walk:
    """State of one range walk: the result so far and the last segment taken."""

    start: datetime
    end: datetime
    allow_holes: bool
    result: Pieces = field(default_factory=list)
    last: Segment | None = None
    done: bool = False

    def hole(self) -> None:
        if not self.allow_holes:
            raise ContainsHoles(f"range {self.start}..{self.end} contains a hole")
        self.result.append(HOLE)

    def take(self, seg: Segment) -> bool:
        """Apply one candidate; False if it was skipped."""
        if self.last is None:
            if seg.start <= self.start < seg.end:
                pass
            elif self.start < seg.start:
                self.hole()
            else:
                return False
        else:
            gap = seg.start - self.last.end
            if gap < -ALLOWABLE_GAP:
                logger.debug("dropping overlapping segment %s", seg.path)
                return False
            if self.last.is_partial or gap > ALLOWABLE_GAP:
                self.hole()
        self.result.append(seg)
        self.last = seg
        return True

    def fast_forward(self, index: HourIndex, pos: int) -> None:
        """Extend with the precomputed chain after chain position `pos` (state is identical there)."""
        chain = index.chain
        cut = bisect_left(index.chain_end_keys, self.end, lo=pos + 1)
        if cut < len(chain):
            nxt = chain[cut]
            assert nxt is not None
            piece = chain[pos + 1 : cut + 1] if nxt.start < self.end else chain[pos + 1 : cut]
            self.done = True
        else:
            piece = chain[pos + 1 :]
        while piece and piece[-1] is None:
            piece = piece[:-1]
        if not piece:
            return
        if not self.allow_holes and HOLE in piece:
            raise ContainsHoles(f"range {self.start}..{self.end} contains a hole")
        if isinstance(piece, SegmentRun):  # left whole: `best_segments` makes its records in bulk
            # The segment just taken at `pos` heads it: one piece, not a record and a run.
            whole = chain[pos : pos + 1 + len(piece)]
            assert isinstance(whole, SegmentRun)
            self.result[-1] = whole
        else:
            self.result.extend(piece)
        last = piece[-1]
        assert last is not None
        self.last = last

    def walk_hour(self, index: HourIndex) -> None:
        candidates = index.candidates
        i = bisect_left(index.starts, self.start - index.max_duration) if self.last is None else 0
        while i < len(candidates) and not self.done:
            seg = candidates[i]
            if seg.start >= self.end:
                self.done = True
                break
            if not self.take(seg):
                i += 1
                continue
            if seg.end >= self.end:
                self.done = True
                break
            pos = index.chain_pos[i]
            if pos < 0:
                i += 1
                continue
            self.fast_forward(index, pos)
            break

    def finish(self) -> Pieces:
        if self.last is None or self.last.is_partial or self.last.end < self.end:
            self.hole()
        return self.result


@dataclass(frozen=True, slots=True)
class _Listing:
    """An hour directory's mtime and sorted entry names, read because its cached index was stale."""

    mtime_ns: int
    names: tuple[str, ...]


class SegmentIndex:
    """Best-segment selection over one store, caching each hour until its directory changes.

    The cache is an LRU over hours bounded by `max_bytes` (estimated memory of the cached hours). A
    directory modified within `settle_seconds` is re-listed on every call, because its mtime may not
    yet reflect a second change within the same clock tick. When a range needs several hours the
    cache cannot answer (a first playlist after a start), they are listed `listing_threads` at a
    time: a cold directory read waits on the disk, and several waits overlap.
    """

    def __init__(
        self,
        base: Path,
        *,
        max_bytes: int = INDEX_CACHE_BYTES,
        settle_seconds: float = 2.0,
        listing_threads: int = LISTING_THREADS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.base = base
        self.settle_seconds = settle_seconds
        self._now = now
        self._cache: ByteBudgetLRU[Path, _CachedHour] = ByteBudgetLRU(max_bytes)
        self._lock = threading.Lock()
        self._listing_threads = listing_threads

    def hour_index(self, channel: str, quality: str, hour: datetime) -> HourIndex:
        hour_dir = self._hour_dir(channel, quality, hour)
        return self._indexed(hour_dir, hour, channel, quality, self._look_all([hour_dir])[0])

    def _hour_dir(self, channel: str, quality: str, hour: datetime) -> Path:
        return self.base / check_component(channel) / check_component(quality) / hour_name(hour)

    def _check(self, hour_dir: Path) -> HourIndex | int:
        """The cached index while the directory is unchanged and settled, else its mtime (the
        directory must be listed); EMPTY_HOUR if there is no directory."""
        try:
            mtime_ns = os.stat(hour_dir).st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            return EMPTY_HOUR
        with self._lock:
            cached = self._cache.get(hour_dir)
        if cached is not None and cached.mtime_ns == mtime_ns and self._settled(mtime_ns):
            return cached.index
        return mtime_ns

    def _settled(self, mtime_ns: int) -> bool:
        return self._now() - mtime_ns / 1e9 > self.settle_seconds

    def _indexed(
        self, hour_dir: Path, hour: datetime, channel: str, quality: str, found: HourIndex | _Listing
    ) -> HourIndex:
        """The index of a looked-at hour: cached, or built from its listing (and cached)."""
        if isinstance(found, HourIndex):
            return found
        with self._lock:
            cached = self._cache.get(hour_dir)
        settled = self._settled(found.mtime_ns)
        if cached is not None and cached.names == found.names:
            if settled:
                cached.mtime_ns = found.mtime_ns
            return cached.index
        entry = self._build(hour_dir, hour, channel, quality, found.names, cached)
        entry.mtime_ns = found.mtime_ns if settled else -1
        with self._lock:
            self._cache.put(hour_dir, entry, entry.size())
        return entry.index

    def _look_all(self, hour_dirs: list[Path]) -> list[HourIndex | _Listing]:
        """Each directory's cached index, or its listing if the cache cannot answer for it; those to
        list, when more than one, listed concurrently."""
        checked = list(map(self._check, hour_dirs))
        stale = [(d, c) for d, c in zip(hour_dirs, checked, strict=True) if not isinstance(c, HourIndex)]
        listed = iter(self._list_all(stale))
        return [c if isinstance(c, HourIndex) else next(listed) for c in checked]

    def _list_all(self, stale: list[tuple[Path, int]]) -> list[_Listing]:
        if len(stale) < 2 or self._listing_threads < 2:
            return [_list(hour_dir, mtime_ns) for hour_dir, mtime_ns in stale]
        return _list_concurrently(stale, self._listing_threads)

    def _build(
        self,
        hour_dir: Path,
        hour: datetime,
        channel: str,
        quality: str,
        names: tuple[str, ...],
        previous: _CachedHour | None,
    ) -> _CachedHour:
        visible, _ = split_hour_entries(names)
        prefix = f"{hour_dir}/"
        columns = hour_columns(hour, visible)
        if columns is not None:
            run = SegmentRun.of(hour, visible, columns, channel, quality, prefix)
            index = None if run is None else _run_index(run)
            if run is not None and index is not None:  # the usual hour: no record per segment
                return _CachedHour(mtime_ns=-1, names=names, segments=run, index=index)
        if previous is None:  # an hour seen for the first time: every name parsed, in order
            segments, unparseable = _records(hour, visible, columns, channel, quality, prefix)
        else:  # a changed hour: only its new names parsed
            old = {s.name: s for s in previous.records or previous.segments}
            fresh = [name for name in visible if name not in old and name not in previous.unparseable]
            new, unparseable = _records(hour, fresh, hour_columns(hour, fresh), channel, quality, prefix)
            unparseable |= previous.unparseable.intersection(visible)
            parsed = {**{name: old[name] for name in visible if name in old}, **{s.name: s for s in new}}
            segments = [parsed[n] for n in visible if n in parsed]
        candidates = best_per_start(drop_implausible(segments), _file_size)
        index = build_hour_index(candidates)
        return _CachedHour(
            mtime_ns=-1, names=names, segments=tuple(segments), index=index, unparseable=unparseable
        )

    def best_segments(
        self, channel: str, quality: str, start: datetime, end: datetime, *, allow_holes: bool = True
    ) -> Chain:
        """The chain of best segments covering [start, end), `HOLE` (None) marking every gap.

        Adjacent segments are contiguous within 10 ms; a non-full segment is always followed by a hole;
        the chain begins with a segment covering `start` or a hole, and ends reaching `end` or with a hole.
        Raises ContainsHoles at the first hole when `allow_holes` is false.
        """
        return flatten(self.best_pieces(channel, quality, start, end, allow_holes=allow_holes), self._records)

    def best_pieces(
        self, channel: str, quality: str, start: datetime, end: datetime, *, allow_holes: bool = True
    ) -> Pieces:
        """`best_segments` with stretches of hours kept as runs (`flatten` gives the chain): for a
        reader that can use a run's columns, such as a playlist, without a record per segment."""
        walk = _Walk(start=start, end=end, allow_holes=allow_holes)
        first = start.replace(minute=0, second=0, microsecond=0) - ONE_HOUR
        hours = list(takewhile(end.__gt__, (first + k * ONE_HOUR for k in count())))
        hour_dirs = [self._hour_dir(channel, quality, hour) for hour in hours]
        for hour, hour_dir, found in zip(hours, hour_dirs, self._look_all(hour_dirs), strict=True):
            if walk.done:
                break
            walk.walk_hour(self._indexed(hour_dir, hour, channel, quality, found))
        return walk.finish()

    def _records(self, run: SegmentRun) -> list[Segment]:
        """The segments of `run`, sliced from its hour's records: made in bulk the first time a
        reader asks (a playlist never does) and then kept, and charged, with the cached hour while
        the cache's budget has room for them."""
        key = Path(run.folder[:-1])
        with self._lock:
            cached = self._cache.get(key)
        hour = None if cached is None else cached.segments
        if cached is None or not isinstance(hour, SegmentRun) or not run:
            return run.segments()
        lo = bisect_left(hour.names, run.names[0])
        hi = lo + len(run)
        # Slices of the cached run share its name strings: anything else (the hour was listed
        # again since) is made afresh.
        if hi > len(hour) or hour.names[lo] is not run.names[0] or hour.names[hi - 1] is not run.names[-1]:
            return run.segments()
        records = cached.records
        if records is None:
            records = hour.segments()
            with self._lock:  # kept only where they push no hour out: an index costs more to rebuild
                if (
                    self._cache.get(key) is cached
                    and self._cache.bytes + SEGMENT_BYTES * len(hour) <= self._cache.max_bytes
                ):
                    cached.records = records
                    self._cache.put(key, cached, cached.size())
        return records[lo:hi]

    async def best_segments_async(
        self, channel: str, quality: str, start: datetime, end: datetime, *, allow_holes: bool = True
    ) -> Chain:
        """`best_segments` off the event loop (it may list directories)."""
        return await asyncio.to_thread(
            self.best_segments, channel, quality, start, end, allow_holes=allow_holes
        )

    async def best_pieces_async(self, channel: str, quality: str, start: datetime, end: datetime) -> Pieces:
        """`best_pieces` off the event loop (it may list directories)."""
        return await asyncio.to_thread(self.best_pieces, channel, quality, start, end)


def flatten(pieces: Pieces, records: Callable[[SegmentRun], list[Segment]] = SegmentRun.segments) -> Chain:
    """The chain of `pieces`: each run replaced by its segments (`records` of it)."""
    if SegmentRun not in set(map(type, pieces)):
        return pieces  # type: ignore[return-value]  # no run among them
    chain: Chain = []
    for piece in pieces:
        if isinstance(piece, SegmentRun):
            chain.extend(records(piece))
        else:
            chain.append(piece)
    return chain


def _records(
    hour: datetime,
    names: list[str],
    columns: HourColumns | None,
    channel: str,
    quality: str,
    prefix: str,
) -> tuple[list[Segment], frozenset[str]]:
    """The records of `names` (`columns`: see `parse_hour_names`) and the names that did not parse,
    each warned about."""
    parsed = parse_hour_names(hour, names, columns, channel, quality, prefix)
    if columns is not None:  # every name parsed: no per-name work
        return parsed, frozenset()  # type: ignore[return-value]
    unparseable = frozenset(name for name, seg in zip(names, parsed, strict=True) if seg is None)
    for name in sorted(unparseable):
        logger.warning("ignoring unparseable file %s%s", prefix, name)
    return [seg for seg in parsed if seg is not None], unparseable


def _list(hour_dir: Path, mtime_ns: int) -> _Listing:
    return _Listing(mtime_ns, tuple(sorted(read_hour_names(hour_dir))))


def _list_concurrently(stale: list[tuple[Path, int]], threads: int) -> list[_Listing]:
    """`_list` of each, on up to `threads` short-lived daemon threads (none left behind to keep a
    stopping process waiting on a stuck file system); the first error is raised here."""
    results: list[_Listing | BaseException | None] = [None] * len(stale)
    jobs = count()  # next() of a count is atomic: each index is taken once

    def work() -> None:
        while (i := next(jobs)) < len(stale):
            try:
                results[i] = _list(*stale[i])
            except BaseException as exc:  # raised in the caller's thread below
                results[i] = exc

    workers = [
        threading.Thread(target=work, name=f"hour-listing-{k}", daemon=True)
        for k in range(min(threads, len(stale)))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [result for result in results if isinstance(result, _Listing)]  # every one is


def _file_size(seg: Segment) -> int:
    try:
        return os.stat(seg.path).st_size
    except OSError:
        return -1
