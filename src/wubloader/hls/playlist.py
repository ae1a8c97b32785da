"""HLS playlist generation for the restreamer: what a media playlist holds, and its text, in chunks.

Pure: no I/O, no HTTP. `plan_media_playlist` makes every decision (trimming, target duration,
ENDLIST) from a best-segments chain; `render_media_playlist` turns a plan into text chunks, reusing
each segment's rendered lines from an `EntryCache` so that a 24 h playlist costs dict lookups.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from itertools import accumulate, groupby, islice, repeat
from typing import TYPE_CHECKING
from urllib.parse import quote

from wubloader.store.cache import ASCII_STR_BYTES
from wubloader.store.segment_run import SegmentRun

if TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime

    from wubloader.store.naming import Segment

    # A playlist's entries: segments, runs of a whole hour's segments (`SegmentRun`), holes (None).
    Entry = Segment | SegmentRun | None

HLS_VERSION = 3
# Open-ended (live) playlists never announce a target below this, so the header line stays the
# same while segments of up to this length keep arriving (RFC 8216 allows a larger target).
LIVE_MIN_TARGET_DURATION = 6
# The rendered lines of ~100,000 segments (56 h of 2 s ones; ~270 B each with their dict slots).
ENTRY_CACHE_BYTES = 24 * 1024 * 1024
# An entry's memory beside its text's characters: its slot in a folder's dict (measured with
# tracemalloc), and an ASCII str's own header.
ENTRY_BYTES = 40
# The entry cache's memo of times into an hour (two hours of 2 s segments), counted in its bytes:
# each costs its dict slot, a timedelta and the text.
MAX_CLOCKS = 4096
CLOCK_BYTES = ENTRY_BYTES + sys.getsizeof(timedelta(0)) + ASCII_STR_BYTES
# EXTINF texts remembered per duration (a stream repeats a handful; ~150 B each).
MAX_EXTINFS = 256
# A variant's separate sound (an EXT-X-MEDIA TYPE=AUDIO rendition) is archived as this quality.
AUDIO_QUALITY_SUFFIX = "-audio"


def audio_quality(quality: str) -> str:
    """The quality holding `quality`'s separately archived sound: `source` → `source-audio`."""
    return quality + AUDIO_QUALITY_SUFFIX


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaPlaylistPlan:
    """The decided content of a media playlist: segments (or runs of them) in order, None =
    discontinuity."""

    entries: Sequence[Entry]
    target_duration: int
    ended: bool


def plan_media_playlist(
    chain: Sequence[Entry],
    *,
    end: datetime,
    now: datetime,
    live: bool,
    live_edge: timedelta,
) -> MediaPlaylistPlan:
    """Decide a media playlist from a best-segments chain (or its pieces) for [start, end).

    A leading hole is dropped (nothing to be discontinuous with); a trailing hole is dropped and
    means the range is incomplete. For `live` (open-ended) playlists, everything from the first
    hole or non-full segment lying within `live_edge` of the newest segment's end is cut, since a
    late or better segment may still replace it: lines once served then never change. ENDLIST
    (`ended`) only when nothing was cut, the chain reaches `end`, and `end` is not after `now`.
    """
    items = list(chain)
    while items and items[0] is None:
        items.pop(0)
    complete = bool(items) and items[-1] is not None and not items[-1].is_partial
    while items and items[-1] is None:
        items.pop()
    if live:
        trimmed = trim_live_edge(items, live_edge)
        complete = complete and len(trimmed) == len(items)
        items = trimmed
    return MediaPlaylistPlan(
        entries=items,
        target_duration=target_duration(items, live=live),
        ended=complete and end <= now,
    )


def trim_live_edge(items: list[Entry], live_edge: timedelta) -> list[Entry]:
    """Cut at the first hole or non-full segment within `live_edge` of the newest segment's end (a run
    is all full segments without a hole: never cut inside)."""
    newest = next((s for s in reversed(items) if s is not None), None)
    if newest is None:
        return []
    edge = newest.end - live_edge
    previous_end = None
    for i, item in enumerate(items):
        if item is None:
            if previous_end is not None and previous_end >= edge:
                return items[:i]
            continue
        if item.is_partial and item.end >= edge:
            return items[:i]
        previous_end = item.end
    return items


def target_duration(items: Sequence[Entry], *, live: bool) -> int:
    """Ceil of the longest segment (at least 1); live playlists at least LIVE_MIN_TARGET_DURATION."""
    if SegmentRun in set(map(type, items)):
        durations: Iterable[timedelta] = (
            item.longest if isinstance(item, SegmentRun) else item.duration
            for item in items
            if item is not None
        )
    else:
        durations = map(_DURATION, filter(None, items))
    longest = max(durations, default=timedelta(0)).total_seconds()
    target = max(1, math.ceil(longest - 1e-9))
    return max(target, LIVE_MIN_TARGET_DURATION) if live else target


@functools.lru_cache(maxsize=1024)
def format_extinf(seconds: float) -> str:
    """Decimal seconds with up to 6 fraction digits, never exponent notation (`2.0`, `2.002`).

    Memoised: a stream repeats a handful of durations, and a 24 h playlist renders 43,200 of them.
    """
    text = f"{seconds:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def format_program_date_time(when: datetime) -> str:
    """`2024-05-01T10:00:02.000000Z`: naive UTC with microseconds and a literal Z."""
    return when.isoformat(timespec="microseconds") + "Z"


# The characters of a plain part: `quote(part, safe="")` changes none of them but ":" (every valid
# segment name, and ordinary channel and quality names), so one `str.replace` quotes such a part.
_PLAIN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~:-"
SEGMENTS_URI = "../../segments/"
_DURATION, _START, _NAME = (
    operator.attrgetter("duration"),
    operator.attrgetter("start"),
    operator.attrgetter("name"),
)
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)
DISCONTINUITY = "#EXT-X-DISCONTINUITY\n"
# An entry's text before its date-time, EXTINF and URI (see `EntryCache._render_run`).
ENTRY_PARTS = ("#EXT-X-PROGRAM-DATE-TIME:", "\n#EXTINF:", ",\n")


def quote_part(part: str) -> str:
    """`quote(part, safe="")`, cheaply for a plain part."""
    return part.replace(":", "%3A") if _all_plain(part) else quote(part, safe="")


def _all_plain(text: str) -> bool:
    """Every character of `text` is plain: a byte table, three times as fast as a regular expression's
    character class over an hour's joined names."""
    return text.isascii() and not text.encode("ascii").translate(None, _PLAIN_BYTES)


def quote_parts(parts: Iterable[str]) -> str:
    """`"/".join(quote(part, safe="") for part in parts)`, cheaply for the usual plain parts."""
    return "/".join(map(quote_part, parts))


def segment_uri(segment: Segment) -> str:
    """Relative URI of a segment from `/playlist/C/Q.m3u8`: `../../segments/C/Q/HOUR/NAME`, quoted."""
    return SEGMENTS_URI + quote_parts(segment.path.rsplit("/", 4)[-4:])


def folder_uri(folder: str) -> str | None:
    """`segment_uri`'s text up to the name for every segment in `folder` (`…/C/Q/HOUR/`), quoted once
    per hour; None for a folder without those three parts."""
    if folder.count("/") < 3:
        return None
    return SEGMENTS_URI + quote_parts(folder.rsplit("/", 4)[-4:-1]) + "/"


class EntryCache:
    """Rendered `PROGRAM-DATE-TIME`/`EXTINF`/URI lines per segment file, reused across playlists.

    Kept per directory (`folder`, one string shared by an hour's segments) and then per file name
    (the listing's own string), so a lookup builds no key and the cache holds nothing but the text
    and its slots. Bounded by `max_bytes` (texts plus ENTRY_BYTES each): when full, the whole cache
    is dropped and rebuilt on demand, which keeps the hot path plain dict lookups. A folder's
    quoted URI, each duration's `EXTINF` text and each offset's `MM:SS.ffffff` are worked out once.
    """

    def __init__(self, max_bytes: int = ENTRY_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._folders: dict[str, dict[str, str]] = {}
        self._places: dict[str, _Place] = {}
        self._clocks: dict[timedelta, str] = {}
        self._clock_bytes = 0
        self._extinfs: dict[timedelta, str] = {}

    def __len__(self) -> int:
        return sum(map(len, self._folders.values()))

    def entry(self, segment: Segment) -> str:
        """The rendered lines of one segment."""
        return self.entries([segment])[0]

    def entries(self, segments: Sequence[Segment]) -> list[str]:
        """`entry` of each of `segments`, which share one folder (or are a `SegmentRun`), in order.
        What is missing is rendered a field at a time through `map` (a quarter of the per-entry
        cost: most of a first 24 h playlist) and kept, unless the run alone is over the budget."""
        if isinstance(segments, SegmentRun):
            folder, names = segments.folder, list(segments.names)
        else:
            folder, names = segments[0].folder, list(map(_NAME, segments))
        known = self._folders.get(folder)
        if not known:  # the usual miss: a folder seen for the first time
            fresh = self._render_run(folder, segments, names)
            self._keep(folder, names, fresh)
            return fresh
        found = list(map(known.get, names))
        if all(found):  # entries are never empty: no None
            return found  # type: ignore[return-value]
        todo = [k for k, text in enumerate(found) if text is None]
        todo_names = list(map(names.__getitem__, todo))
        missing = (
            segments.pick(todo) if isinstance(segments, SegmentRun) else list(map(segments.__getitem__, todo))
        )
        fresh = self._render_run(folder, missing, todo_names)
        for k, text in zip(todo, fresh, strict=True):
            found[k] = text
        self._keep(folder, todo_names, fresh)
        return found  # type: ignore[return-value]

    def _keep(self, folder: str, names: list[str], texts: list[str]) -> None:
        """Cache `texts` by `names` in `folder` unless they alone are over the budget."""
        size = sum(map(len, texts)) + (ENTRY_BYTES + ASCII_STR_BYTES) * len(texts)
        if self.bytes + size > self.max_bytes:
            self._clear()
            if size > self.max_bytes:
                return
        self.bytes += size
        self._folders.setdefault(folder, {}).update(zip(names, texts, strict=True))

    def rendered(self, folder: str) -> Mapping[str, str]:
        """The texts already rendered for `folder`'s files, by name (read only)."""
        return self._folders.get(folder) or {}

    def _clear(self) -> None:
        self._folders.clear()
        self._places.clear()
        self._clocks.clear()
        self._clock_bytes = 0
        self.bytes = 0

    def _place(self, folder: str, start: datetime) -> _Place:
        place = self._places.get(folder)
        if place is None:
            place = self._places[folder] = _Place.of(folder, start)
        return place

    def _render_run(self, folder: str, segments: Sequence[Segment], names: list[str]) -> list[str]:
        """The entries of `segments` (all in `folder`, named `names`), a field at a time: each step one
        `map` over the run (four times as fast as formatting entry by entry)."""
        # Each entry is one join of its pieces; the hour's text and the folder's URI ride in the
        # pieces around the time and the name, so the usual run makes no string per field.
        if isinstance(segments, SegmentRun):  # its names' own `MM:SS.ffffff` are the times
            place = self._place(folder, segments.hour_start)
            heads: Iterable[str] = repeat(ENTRY_PARTS[0] + place.hour_text)
            times: Iterable[str | None] = segments.times
            after_time = "Z" + ENTRY_PARTS[1]
            durations: Sequence[timedelta] = segments.durations
        else:
            place = self._place(folder, segments[0].start)
            (heads, times), after_time = self._date_times(segments, place), ENTRY_PARTS[1]
            durations = list(map(_DURATION, segments))
        extinfs = list(map(self._extinfs.get, durations))
        if not all(extinfs):
            extinfs = list(map(self._extinf, durations))
        tails: Iterable[str]
        paths: Iterable[str]
        if place.uri is not None and _all_plain("".join(names)):
            # Plain names hold no newline: one replace over the joined names quotes them all.
            tails, paths = (
                repeat(ENTRY_PARTS[2] + place.uri),
                "\n".join(names).replace(":", "%3A").split("\n"),
            )
        else:
            tails, paths = repeat(ENTRY_PARTS[2]), map(segment_uri, segments)
        pieces = zip(heads, times, repeat(after_time), extinfs, tails, paths, repeat("\n"))
        return list(map("".join, pieces))  # no None is left in `times`

    def _date_times(self, segments: Sequence[Segment], place: _Place) -> tuple[Iterable[str], Iterable[str]]:
        """The pieces before each segment's `#EXTINF` line: a head, then the time it starts."""
        starts = list(map(_START, segments))
        clocks = list(map(self._clocks.get, map(operator.sub, starts, repeat(place.hour))))
        if all(clocks):
            return repeat(ENTRY_PARTS[0] + place.hour_text), clocks  # type: ignore[return-value]
        return repeat(ENTRY_PARTS[0]), [
            place.hour_text + c if c is not None else self._date_time(t, place)
            for t, c in zip(starts, clocks, strict=True)
        ]

    def _extinf(self, duration: timedelta) -> str:
        extinf = self._extinfs.get(duration)
        if extinf is None:
            if len(self._extinfs) >= MAX_EXTINFS:
                self._extinfs.clear()
            extinf = self._extinfs[duration] = format_extinf(duration.total_seconds())
        return extinf

    def _date_time(self, start: datetime, place: _Place) -> str:
        """`format_program_date_time(start)`; its `MM:SS.ffffff` is remembered by the offset into the
        hour when `start` lies in `place`'s hour. A stream's segments keep their phase, so the same
        offsets come back every hour: a lookup instead of formatting a datetime (4x the cost)."""
        text = format_program_date_time(start)
        if text.startswith(place.hour_text):
            if len(self._clocks) >= MAX_CLOCKS:
                self._clocks.clear()
                self.bytes -= self._clock_bytes
                self._clock_bytes = 0
            clock = self._clocks[start - place.hour] = text[len(place.hour_text) :]
            self._clock_bytes += CLOCK_BYTES + len(clock)
            self.bytes += CLOCK_BYTES + len(clock)
        return text


@dataclass(frozen=True, slots=True)
class _Place:
    """What the entries of one folder share: the quoted URI up to the name (None: not a `C/Q/HOUR/`
    folder) and the hour of its first segment, as a time and as `YYYY-MM-DDTHH:`."""

    uri: str | None
    hour: datetime
    hour_text: str

    @classmethod
    def of(cls, folder: str, start: datetime) -> _Place:
        hour = start.replace(minute=0, second=0, microsecond=0)
        return cls(folder_uri(folder), hour, format_program_date_time(hour)[: len("YYYY-MM-DDTHH:")])


def media_playlist_header(plan: MediaPlaylistPlan) -> str:
    return (
        f"#EXTM3U\n#EXT-X-VERSION:{HLS_VERSION}\n#EXT-X-TARGETDURATION:{plan.target_duration}\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
    )


def render_media_playlist(plan: MediaPlaylistPlan, cache: EntryCache, chunk_bytes: int) -> Iterator[str]:
    """The playlist text in chunks of roughly `chunk_bytes` characters (ASCII, so ≈ bytes).

    MEDIA-SEQUENCE is always 0 because entries are never dropped from the front: the playlist is
    EVENT-like, and a client polling an open-ended range sees earlier lines unchanged. Entries are
    taken a run of one folder (an hour) at a time, holes as runs of their own.
    """
    parts = [media_playlist_header(plan)]
    size = len(parts[0])
    entries = plan.entries
    folder: str | None = None
    texts: Mapping[str, str] = {}
    items = enumerate(entries)
    for i, item in items:
        if item is None:
            text = DISCONTINUITY
        elif isinstance(item, SegmentRun):  # a stretch of an hour, rendered (or found) at once
            parts, size = yield from _chunked(parts, size, cache.entries(item), chunk_bytes)
            folder = None
            continue
        else:
            if item.folder is not folder:  # an hour's segments share one folder string
                folder = item.folder
                texts = cache.rendered(folder)
            known = texts.get(item.name)
            if known is None:  # the rest of the folder's segments, rendered at once
                run = cache.entries(_folder_run(entries, i))
                parts, size = yield from _chunked(parts, size, run, chunk_bytes)
                deque(islice(items, len(run) - 1), maxlen=0)  # the run's other entries: sent
                folder = None
                continue
            text = known
        parts.append(text)
        size += len(text)
        if size >= chunk_bytes:
            yield "".join(parts)
            parts = []
            size = 0
    if plan.ended:
        parts.append("#EXT-X-ENDLIST\n")
    if parts:
        yield "".join(parts)


def _chunked(
    parts: list[str], size: int, texts: list[str], chunk_bytes: int
) -> Generator[str, None, tuple[list[str], int]]:
    """`texts` added to the chunk `parts` (of `size` characters), yielding each chunk that reaches
    `chunk_bytes` as the per-entry loop would: cut points by bisection over the running sizes."""
    ends = list(accumulate(map(len, texts), initial=size))  # the chunk's size after k texts, + sent
    taken = sent = 0
    while (cut := bisect_left(ends, sent + chunk_bytes, lo=taken + 1)) < len(ends):
        parts.extend(texts[taken:cut])
        yield "".join(parts)
        parts = []
        taken, sent = cut, ends[cut]
    parts.extend(texts[taken:])
    return parts, ends[-1] - sent


def _folder_run(entries: Sequence[Entry], i: int) -> list[Segment]:
    """The segments from `entries[i]` (a segment) up to the next hole, run or folder."""
    folders = map(getattr, islice(entries, i, None), repeat("folder"), repeat(None))
    keys = zip(folders, map(type, islice(entries, i, None)), strict=True)  # a run may share the folder
    _, run = next(groupby(zip(keys, islice(entries, i, None), strict=True), key=_FIRST))
    return list(map(_SECOND, run))


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One quality in a master playlist; URIs are relative to the master playlist.

    `audio_uri`: the media playlist of its separately archived sound (`QUALITY-audio`), if any.
    """

    name: str
    bandwidth: int
    uri: str
    frame_rate: float | None = None
    audio_uri: str | None = None


def render_master_playlist(variants: Sequence[Variant]) -> str:
    """`#EXTM3U` and one `EXT-X-STREAM-INF` + URI per variant, in the given order.

    A variant with separate sound gets an `EXT-X-MEDIA TYPE=AUDIO` rendition (group `NAME-audio`)
    and refers to it with `AUDIO=`, so players fetch and play both.
    """
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{HLS_VERSION}"]
    for variant in variants:
        name = variant.name.replace('"', "'")
        rate = f",FRAME-RATE={variant.frame_rate:.3f}" if variant.frame_rate else ""
        audio = ""
        if variant.audio_uri is not None:
            audio = f',AUDIO="{name}-audio"'
            lines.append(
                f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{name}-audio",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,'
                f'URI="{variant.audio_uri}"'
            )
        lines.append(f'#EXT-X-STREAM-INF:BANDWIDTH={max(1, variant.bandwidth)}{rate},NAME="{name}"{audio}')
        lines.append(variant.uri)
    return "\n".join(lines) + "\n"
