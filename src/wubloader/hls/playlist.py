"""HLS playlist generation for the restreamer: what a media playlist holds, and its text, in chunks.

Pure: no I/O, no HTTP. `plan_media_playlist` makes every decision (trimming, target duration,
ENDLIST) from a best-segments chain; `render_media_playlist` turns a plan into text chunks, reusing
each segment's rendered lines from an `EntryCache` so that a 24 h playlist costs dict lookups.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import datetime, timedelta

    from wubloader.store.naming import Segment

HLS_VERSION = 3
# Open-ended (live) playlists never announce a target below this, so the header line stays the
# same while segments of up to this length keep arriving (RFC 8216 allows a larger target).
LIVE_MIN_TARGET_DURATION = 6
# The rendered lines of ~100,000 segments (56 h of 2 s ones; ~270 B each with their dict slots).
ENTRY_CACHE_BYTES = 24 * 1024 * 1024
# An entry's memory beside its text's characters: its slot in a folder's dict (measured with
# tracemalloc), and an ASCII str's own header.
ENTRY_BYTES = 40
ASCII_STR_BYTES = sys.getsizeof("")
# A variant's separate sound (an EXT-X-MEDIA TYPE=AUDIO rendition) is archived as this quality.
AUDIO_QUALITY_SUFFIX = "-audio"


def audio_quality(quality: str) -> str:
    """The quality holding `quality`'s separately archived sound: `source` → `source-audio`."""
    return quality + AUDIO_QUALITY_SUFFIX


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaPlaylistPlan:
    """The decided content of a media playlist: segments in order, None = discontinuity."""

    entries: Sequence[Segment | None]
    target_duration: int
    ended: bool


def plan_media_playlist(
    chain: Sequence[Segment | None],
    *,
    end: datetime,
    now: datetime,
    live: bool,
    live_edge: timedelta,
) -> MediaPlaylistPlan:
    """Decide a media playlist from a best-segments chain for [start, end).

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


def trim_live_edge(items: list[Segment | None], live_edge: timedelta) -> list[Segment | None]:
    """Cut at the first hole or non-full segment within `live_edge` of the newest segment's end."""
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


def target_duration(items: Sequence[Segment | None], *, live: bool) -> int:
    """Ceil of the longest segment (at least 1); live playlists at least LIVE_MIN_TARGET_DURATION."""
    longest = max((s.duration.total_seconds() for s in items if s is not None), default=0.0)
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


# Paths whose only character `quote(part, safe="")` changes is ":" (every valid segment name, and
# ordinary channel and quality names): one `str.replace` instead of a per-character quote per part.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.~:/-]*")


def quote_parts(parts: Sequence[str]) -> str:
    """`"/".join(quote(part, safe="") for part in parts)`, cheaply for the usual plain parts."""
    joined = "/".join(parts)
    if _PLAIN_PATH.fullmatch(joined) is not None and joined.count("/") == len(parts) - 1:
        return joined.replace(":", "%3A")
    return "/".join(quote(part, safe="") for part in parts)


def segment_uri(segment: Segment) -> str:
    """Relative URI of a segment from `/playlist/C/Q.m3u8`: `../../segments/C/Q/HOUR/NAME`, quoted."""
    return "../../segments/" + quote_parts(segment.path.rsplit("/", 4)[-4:])


class EntryCache:
    """Rendered `PROGRAM-DATE-TIME`/`EXTINF`/URI lines per segment file, reused across playlists.

    Kept per directory (`folder`, one string shared by an hour's segments) and then per file name
    (the listing's own string), so a lookup builds no key and the cache holds nothing but the text
    and its slots. Bounded by `max_bytes` (texts plus ENTRY_BYTES each): when full, the whole cache
    is dropped and rebuilt on demand, which keeps the hot path two plain dict lookups.
    """

    def __init__(self, max_bytes: int = ENTRY_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._folders: dict[str, dict[str, str]] = {}

    def __len__(self) -> int:
        return sum(map(len, self._folders.values()))

    def entry(self, segment: Segment) -> str:
        folder, name = segment.folder, segment.name
        texts = self._folders.get(folder)
        if texts is None:
            texts = self._folders[folder] = {}
        text = texts.get(name)
        if text is None:
            text = (
                f"#EXT-X-PROGRAM-DATE-TIME:{format_program_date_time(segment.start)}\n"
                f"#EXTINF:{format_extinf(segment.duration.total_seconds())},\n"
                f"{segment_uri(segment)}\n"
            )
            size = ENTRY_BYTES + ASCII_STR_BYTES + len(text)
            self.bytes += size
            if self.bytes > self.max_bytes:
                self._folders.clear()
                self.bytes = size
                texts = self._folders[folder] = {}
            texts[name] = text
        return text


def media_playlist_header(plan: MediaPlaylistPlan) -> str:
    return (
        f"#EXTM3U\n#EXT-X-VERSION:{HLS_VERSION}\n#EXT-X-TARGETDURATION:{plan.target_duration}\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
    )


def render_media_playlist(plan: MediaPlaylistPlan, cache: EntryCache, chunk_bytes: int) -> Iterator[str]:
    """The playlist text in chunks of roughly `chunk_bytes` characters (ASCII, so ≈ bytes).

    MEDIA-SEQUENCE is always 0 because entries are never dropped from the front: the playlist is
    EVENT-like, and a client polling an open-ended range sees earlier lines unchanged.
    """
    parts = [media_playlist_header(plan)]
    size = len(parts[0])
    entry, folders = cache.entry, cache._folders
    folder: str | None = None
    texts: dict[str, str] = {}
    for item in plan.entries:
        if item is None:
            text = "#EXT-X-DISCONTINUITY\n"
        else:
            if item.folder is not folder:  # an hour's segments share one folder string
                folder = item.folder
                texts = folders.setdefault(folder, {})
            text = texts.get(item.name) or entry(item)
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
