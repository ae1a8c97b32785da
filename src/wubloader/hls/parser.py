"""Parsing HLS master and media playlists into typed records (pure functions; no I/O, no fetching).

Malformed input raises PlaylistParseError naming the line; the downloader logs it and polls again.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from urllib.parse import urljoin

from wubloader.hls.parse_attributes import (
    PlaylistParseError,
    parse_attribute_list,
    parse_byterange_text,
    parse_float,
    parse_int,
    playlist_lines,
    split_tag,
)
from wubloader.hls.parse_master import is_master_playlist, parse_master_playlist
from wubloader.hls.parse_records import (
    AdRange,
    AdReason,
    ByteRange,
    Encryption,
    InitSection,
    MediaPlaylist,
    MediaSegment,
)
from wubloader.runtime.errors import BadTimestamp
from wubloader.runtime.timeparse import parse as parse_timestamp

__all__ = [
    "PlaylistParseError",
    "is_master_playlist",
    "parse_master_playlist",
    "parse_media_playlist",
]

_AD_OUT_TAGS = frozenset(
    {"#EXT-X-SCTE35-OUT", "#EXT-X-SCTE35-OUT-CONT", "#EXT-X-CUE-OUT", "#EXT-X-CUE-OUT-CONT"}
)
_AD_IN_TAGS = frozenset({"#EXT-X-SCTE35-IN", "#EXT-X-CUE-IN"})
_STITCHED_AD_CLASS = "twitch-stitched-ad"


def _parse_pdt(value: str, line: int) -> datetime:
    try:
        return parse_timestamp(value)
    except BadTimestamp as exc:
        raise PlaylistParseError(f"bad PROGRAM-DATE-TIME {value[:40]!r}", line) from exc


class _MediaState:
    """The parser's running state: pending per-segment tags and sticky ones (map, key, SCTE-35)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.target_duration: int | None = None
        self.media_sequence = 0
        self.discontinuity_sequence = 0  # the header value; segments count on from it
        self.running_discontinuity = 0
        self.endlist = False
        self.playlist_type: str | None = None
        self.segments: list[MediaSegment] = []
        self.ad_ranges: list[AdRange] = []
        # Per-segment (cleared after each URI line).
        self.extinf: tuple[float, str] | None = None
        self.pdt: datetime | None = None
        self.byterange: tuple[int, int | None] | None = None
        self.discontinuity = False
        # Sticky.
        self.init_section: InitSection | None = None
        self.encryption: Encryption | None = None
        self.in_scte35 = False
        self.last_range_end: tuple[str, int] | None = None  # (uri, end offset) for BYTERANGE without @

    def tag(self, name: str, value: str, line: int) -> None:
        handler = _MEDIA_TAGS.get(name)
        if handler is not None:
            handler(self, value, line)
        elif name in _AD_OUT_TAGS:
            self.in_scte35 = True
        elif name in _AD_IN_TAGS:
            self.in_scte35 = False
        # Other tags (twitch prefetch, EXT-X-VERSION, unknown vendor tags) are ignored on purpose.

    def uri(self, text: str, line: int) -> None:
        if self.extinf is None:
            raise PlaylistParseError("segment URI without a preceding #EXTINF", line)
        uri = urljoin(self.base_url, text)
        duration, title = self.extinf
        if self.discontinuity:
            self.running_discontinuity += 1
        self.segments.append(
            MediaSegment(
                uri=uri,
                duration=duration,
                title=title,
                sequence=self.media_sequence + len(self.segments),
                discontinuity=self.discontinuity,
                discontinuity_sequence=self.discontinuity_sequence + self.running_discontinuity,
                program_date_time=self.pdt,
                byterange=self._resolve_byterange(uri, line),
                init_section=self.init_section,
                encryption=self.encryption,
                ad_reason=self._ad_reason(title),
            )
        )
        self.extinf = self.pdt = self.byterange = None
        self.discontinuity = False

    def _resolve_byterange(self, uri: str, line: int) -> ByteRange | None:
        if self.byterange is None:
            return None
        length, offset = self.byterange
        if offset is None:
            if self.last_range_end is None or self.last_range_end[0] != uri:
                raise PlaylistParseError(
                    "BYTERANGE without offset does not follow a range of the same URI", line
                )
            offset = self.last_range_end[1]
        self.last_range_end = (uri, offset + length)
        return ByteRange(length=length, offset=offset)

    def _ad_reason(self, title: str) -> AdReason | None:
        if self.in_scte35:
            return AdReason.SCTE35
        if title.startswith("Amazon"):
            return AdReason.AMAZON_TITLE
        return None

    def finish(self) -> MediaPlaylist:
        segments = _mark_daterange_ads(self.segments, self.ad_ranges)
        return MediaPlaylist(
            target_duration=self.target_duration,
            media_sequence=self.media_sequence,
            discontinuity_sequence=self.discontinuity_sequence,
            segments=tuple(segments),
            endlist=self.endlist,
            playlist_type=self.playlist_type,
            ad_ranges=tuple(self.ad_ranges),
        )


def _tag_extinf(state: _MediaState, value: str, line: int) -> None:
    duration_text, _, title = value.partition(",")
    state.extinf = (parse_float(duration_text, "EXTINF duration", line), title.strip())


def _tag_target_duration(state: _MediaState, value: str, line: int) -> None:
    # Some packagers write a decimal here; round up as the spec's definition (a maximum) implies.
    state.target_duration = -int(-parse_float(value, "TARGETDURATION", line) // 1)


def _tag_media_sequence(state: _MediaState, value: str, line: int) -> None:
    if state.segments:
        raise PlaylistParseError("MEDIA-SEQUENCE after the first segment", line)
    state.media_sequence = parse_int(value, "MEDIA-SEQUENCE", line)


def _tag_discontinuity_sequence(state: _MediaState, value: str, line: int) -> None:
    if state.segments:
        raise PlaylistParseError("DISCONTINUITY-SEQUENCE after the first segment", line)
    state.discontinuity_sequence = parse_int(value, "DISCONTINUITY-SEQUENCE", line)


def _tag_discontinuity(state: _MediaState, value: str, line: int) -> None:
    state.discontinuity = True


def _tag_endlist(state: _MediaState, value: str, line: int) -> None:
    state.endlist = True


def _tag_playlist_type(state: _MediaState, value: str, line: int) -> None:
    state.playlist_type = value.strip().upper() or None


def _tag_pdt(state: _MediaState, value: str, line: int) -> None:
    state.pdt = _parse_pdt(value, line)


def _tag_byterange(state: _MediaState, value: str, line: int) -> None:
    state.byterange = parse_byterange_text(value, line)


def _tag_map(state: _MediaState, value: str, line: int) -> None:
    attrs = parse_attribute_list(value, line)
    if not attrs.get("URI"):
        raise PlaylistParseError("EXT-X-MAP without URI", line)
    byterange = None
    if "BYTERANGE" in attrs:
        length, offset = parse_byterange_text(attrs["BYTERANGE"], line)
        byterange = ByteRange(length=length, offset=offset or 0)
    state.init_section = InitSection(uri=urljoin(state.base_url, attrs["URI"]), byterange=byterange)


def _tag_key(state: _MediaState, value: str, line: int) -> None:
    attrs = parse_attribute_list(value, line)
    method = attrs.get("METHOD", "").upper()
    if not method:
        raise PlaylistParseError("EXT-X-KEY without METHOD", line)
    uri = attrs.get("URI")
    state.encryption = (
        None
        if method == "NONE"
        else Encryption(method=method, uri=urljoin(state.base_url, uri) if uri else None)
    )


def _tag_daterange(state: _MediaState, value: str, line: int) -> None:
    attrs = parse_attribute_list(value, line)
    ad_id = attrs.get("ID", "")
    is_ad = (
        attrs.get("CLASS") == _STITCHED_AD_CLASS or ad_id.startswith("stitched-ad-") or "SCTE35-OUT" in attrs
    )
    if not is_ad or "START-DATE" not in attrs:
        return
    start = _parse_pdt(attrs["START-DATE"], line)
    end: datetime | None = None
    if "END-DATE" in attrs:
        end = _parse_pdt(attrs["END-DATE"], line)
    else:
        for key in ("DURATION", "PLANNED-DURATION"):
            if key in attrs:
                end = start + timedelta(seconds=parse_float(attrs[key], f"DATERANGE {key}", line))
                break
    state.ad_ranges.append(AdRange(id=ad_id, start=start, end=end))


_MEDIA_TAGS = {
    "#EXTINF": _tag_extinf,
    "#EXT-X-TARGETDURATION": _tag_target_duration,
    "#EXT-X-MEDIA-SEQUENCE": _tag_media_sequence,
    "#EXT-X-DISCONTINUITY-SEQUENCE": _tag_discontinuity_sequence,
    "#EXT-X-DISCONTINUITY": _tag_discontinuity,
    "#EXT-X-ENDLIST": _tag_endlist,
    "#EXT-X-PLAYLIST-TYPE": _tag_playlist_type,
    "#EXT-X-PROGRAM-DATE-TIME": _tag_pdt,
    "#EXT-X-BYTERANGE": _tag_byterange,
    "#EXT-X-MAP": _tag_map,
    "#EXT-X-KEY": _tag_key,
    "#EXT-X-DATERANGE": _tag_daterange,
}


def _mark_daterange_ads(segments: list[MediaSegment], ranges: list[AdRange]) -> list[MediaSegment]:
    """Flag segments whose start falls inside a stitched-ad DATERANGE (a range without an end covers nothing).

    Starts come from PROGRAM-DATE-TIME, carried forward (and back from the first tag) by EXTINF.
    """
    closed = [r for r in ranges if r.end is not None]
    if not closed or not segments:
        return segments
    starts = _segment_starts(segments)
    result = []
    for segment, start in zip(segments, starts, strict=True):
        if segment.ad_reason is None and start is not None:
            if any(r.start <= start < r.end for r in closed if r.end is not None):
                segment = dataclasses.replace(segment, ad_reason=AdReason.DATERANGE)
        result.append(segment)
    return result


def _segment_starts(segments: list[MediaSegment]) -> list[datetime | None]:
    """Each segment's start: its PDT, else the previous start + EXTINF (back-filled before the first PDT)."""
    starts: list[datetime | None] = [None] * len(segments)
    current: datetime | None = None
    for i, segment in enumerate(segments):
        current = segment.program_date_time or current
        starts[i] = current
        if current is not None:
            current += timedelta(seconds=segment.duration)
    first = next((i for i, s in enumerate(segments) if s.program_date_time is not None), None)
    if first is not None:
        when = segments[first].program_date_time
        assert when is not None
        for i in range(first - 1, -1, -1):
            when -= timedelta(seconds=segments[i].duration)
            starts[i] = when
    return starts


def parse_media_playlist(text: str, base_url: str) -> MediaPlaylist:
    """Parse a media playlist; relative URIs are resolved against `base_url` (the final fetched URL).

    Raises PlaylistParseError for malformed input, including a master playlist given by mistake.
    A trailing `#EXTINF` without a URI (a playlist cut mid-write) is an error too.
    """
    if is_master_playlist(text):
        raise PlaylistParseError("expected a media playlist, got a master playlist")
    state = _MediaState(base_url)
    for number, line in playlist_lines(text):
        if line.startswith("#"):
            name, value = split_tag(line)
            state.tag(name, value, number)
        else:
            state.uri(line, number)
    if state.extinf is not None:
        raise PlaylistParseError("playlist ends with an #EXTINF that has no URI")
    return state.finish()
