"""The media playlist parser's state machine: per-segment and sticky tags, one handler per tag.

Pure. A bad tag is skipped with a warning; a segment whose own lines are bad is skipped (and the next
one marked `gap_before`); values no live stream can have are refused as implausible.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from wubloader.hls.parse_attributes import (
    ImplausibleValue,
    PlaylistParseError,
    parse_attribute_list,
    parse_byterange_text,
    parse_float,
    parse_int,
    split_tag,
)
from wubloader.hls.parse_records import (
    AdRange,
    AdReason,
    ByteRange,
    Encryption,
    InitSection,
    MediaPlaylist,
    MediaSegment,
    ParseWarning,
    WarningKind,
)
from wubloader.runtime.errors import BadTimestamp
from wubloader.runtime.timeparse import parse as parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

_AD_OUT_TAGS = frozenset(
    {"#EXT-X-SCTE35-OUT", "#EXT-X-SCTE35-OUT-CONT", "#EXT-X-CUE-OUT", "#EXT-X-CUE-OUT-CONT"}
)
_AD_IN_TAGS = frozenset({"#EXT-X-SCTE35-IN", "#EXT-X-CUE-IN"})
_STITCHED_AD_CLASS = "twitch-stitched-ad"
# No live segment or ad lasts a day; anything longer is refused here, before any date arithmetic
# could overflow (the downloader applies its own, tighter plausibility limit afterwards).
MAX_SECONDS = 86400.0
# Bad lines of these tags make the segment they belong to unusable (unknown length or bytes).
_SEGMENT_TAGS = frozenset({"#EXTINF", "#EXT-X-BYTERANGE"})


def _parse_pdt(value: str, line: int, what: str = "PROGRAM-DATE-TIME") -> datetime:
    try:
        return parse_timestamp(value)
    except BadTimestamp as exc:
        raise PlaylistParseError(f"bad {what} {value.strip()[:40]!r}", line) from exc


def _parse_seconds(text: str, what: str, line: int) -> float:
    value = parse_float(text, what, line)
    if value > MAX_SECONDS:
        raise ImplausibleValue(f"{what} of {text.strip()[:24]} s is implausible", line)
    return value


class MediaState:
    """The parser's running state: pending per-segment tags and sticky ones (map, key, SCTE-35)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.lines = 1  # lines consumed, the #EXTM3U line included
        self.target_duration: int | None = None
        self.media_sequence = 0
        self.discontinuity_sequence = 0  # the header value; segments count on from it
        self.running_discontinuity = 0
        self.count = 0  # URI lines that consumed an #EXTINF, dropped ones included
        self.endlist = False
        self.playlist_type: str | None = None
        self.segments: list[MediaSegment] = []
        self.ad_ranges: list[AdRange] = []
        self.warnings: list[ParseWarning] = []
        # Per-segment (cleared after each URI line).
        self.extinf: tuple[float, str] | None = None
        self.extinf_line = 0
        self.drop: str | None = None  # why the pending segment is unusable
        self.drop_kind = WarningKind.MALFORMED
        self.pdt: datetime | None = None
        self.byterange: tuple[int, int | None] | None = None
        self.discontinuity = False
        self.gap = False
        # Sticky.
        self.init_section: InitSection | None = None
        self.encryption: Encryption | None = None
        self.in_scte35 = False
        self.last_range_end: tuple[str, int] | None = None  # (uri, end offset) for BYTERANGE without @

    def copy(self) -> MediaState:
        """An independent copy (lists copied), to parse a provisional last line on."""
        other = copy.copy(self)
        other.segments = list(self.segments)
        other.ad_ranges = list(self.ad_ranges)
        other.warnings = list(self.warnings)
        return other

    def warn(self, line: int, message: str, kind: WarningKind = WarningKind.MALFORMED) -> None:
        self.warnings.append(ParseWarning(line=line, message=message, kind=kind))

    def feed(self, lines: Iterator[tuple[int, str]]) -> None:
        for number, line in lines:
            if line.startswith("#"):
                name, value = split_tag(line)
                self.tag(name, value, number)
            else:
                self.uri(line, number)

    def tag(self, name: str, value: str, line: int) -> None:
        handler = _MEDIA_TAGS.get(name)
        if handler is not None:
            try:
                handler(self, value, line)
            except PlaylistParseError as exc:
                implausible = isinstance(exc, ImplausibleValue)
                kind = WarningKind.IMPLAUSIBLE if implausible else WarningKind.MALFORMED
                if name in _SEGMENT_TAGS:
                    self.drop = f"its {name} line {line} was refused: {exc.detail}"
                    self.extinf_line = self.extinf_line or line
                else:
                    self.warn(line, f"{name} skipped: {exc.detail}", kind)
                if name == "#EXTINF":
                    self.drop_kind = kind
        elif name in _AD_OUT_TAGS:
            self.in_scte35 = True
        elif name in _AD_IN_TAGS:
            self.in_scte35 = False
        # Other tags (twitch prefetch, EXT-X-VERSION, unknown vendor tags) are ignored on purpose.

    def uri(self, text: str, line: int) -> None:
        if self.extinf is None and self.drop is None:
            self.warn(line, f"line without a preceding #EXTINF skipped: {text[:60]!r}")
            return
        sequence = self.media_sequence + self.count
        self.count += 1
        if self.discontinuity:
            self.running_discontinuity += 1
        uri = urljoin(self.base_url, text)
        byterange = self._resolve_byterange(uri, line) if self.drop is None else None
        if self.drop is not None or self.extinf is None:
            self.warn(self.extinf_line or line, f"segment {text[:60]!r} skipped: {self.drop}", self.drop_kind)
            self.gap = True
        else:
            self._append(uri, sequence, byterange)
        self.extinf = self.pdt = self.byterange = self.drop = None
        self.extinf_line = 0
        self.drop_kind = WarningKind.MALFORMED
        self.discontinuity = False

    def _append(self, uri: str, sequence: int, byterange: ByteRange | None) -> None:
        assert self.extinf is not None
        duration, title = self.extinf
        self.segments.append(
            MediaSegment(
                uri=uri,
                duration=duration,
                title=title,
                sequence=sequence,
                discontinuity=self.discontinuity,
                discontinuity_sequence=self.discontinuity_sequence + self.running_discontinuity,
                program_date_time=self.pdt,
                byterange=byterange,
                init_section=self.init_section,
                encryption=self.encryption,
                ad_reason=self._ad_reason(title),
                gap_before=self.gap,
            )
        )
        self.gap = False

    def _resolve_byterange(self, uri: str, line: int) -> ByteRange | None:
        if self.byterange is None:
            return None
        length, offset = self.byterange
        if offset is None:
            if self.last_range_end is None or self.last_range_end[0] != uri:
                self.drop = "BYTERANGE without offset does not follow a range of the same URI"
                return None
            offset = self.last_range_end[1]
        self.last_range_end = (uri, offset + length)
        return ByteRange(length=length, offset=offset)

    def _ad_reason(self, title: str) -> AdReason | None:
        if self.in_scte35:
            return AdReason.SCTE35
        if title.startswith("Amazon"):
            return AdReason.AMAZON_TITLE
        return None

    def result(self, warnings: list[ParseWarning], unchanged: int) -> MediaPlaylist:
        """The playlist so far (the state stays usable for more lines)."""
        if self.extinf is not None or self.drop is not None:
            warnings = [
                *warnings,
                ParseWarning(line=self.extinf_line, message="#EXTINF without a URI at the end"),
            ]
        return MediaPlaylist(
            target_duration=self.target_duration,
            media_sequence=self.media_sequence,
            discontinuity_sequence=self.discontinuity_sequence,
            segments=tuple(self.segments),
            endlist=self.endlist,
            playlist_type=self.playlist_type,
            ad_ranges=tuple(self.ad_ranges),
            warnings=tuple(warnings),
            unchanged=unchanged,
        )


def _tag_extinf(state: MediaState, value: str, line: int) -> None:
    state.extinf_line = line
    duration_text, _, title = value.partition(",")
    state.extinf = (_parse_seconds(duration_text, "EXTINF duration", line), title.strip())


def _tag_target_duration(state: MediaState, value: str, line: int) -> None:
    # Some packagers write a decimal here; round up as the spec's definition (a maximum) implies.
    state.target_duration = -int(-_parse_seconds(value, "TARGETDURATION", line) // 1)


def _tag_media_sequence(state: MediaState, value: str, line: int) -> None:
    if state.count:
        raise PlaylistParseError("MEDIA-SEQUENCE after the first segment", line)
    state.media_sequence = parse_int(value, "MEDIA-SEQUENCE", line)


def _tag_discontinuity_sequence(state: MediaState, value: str, line: int) -> None:
    if state.count:
        raise PlaylistParseError("DISCONTINUITY-SEQUENCE after the first segment", line)
    state.discontinuity_sequence = parse_int(value, "DISCONTINUITY-SEQUENCE", line)


def _tag_discontinuity(state: MediaState, value: str, line: int) -> None:
    state.discontinuity = True


def _tag_endlist(state: MediaState, value: str, line: int) -> None:
    state.endlist = True


def _tag_playlist_type(state: MediaState, value: str, line: int) -> None:
    state.playlist_type = value.strip().upper() or None


def _tag_pdt(state: MediaState, value: str, line: int) -> None:
    state.pdt = _parse_pdt(value, line)


def _tag_byterange(state: MediaState, value: str, line: int) -> None:
    state.byterange = parse_byterange_text(value, line)


def _tag_map(state: MediaState, value: str, line: int) -> None:
    attrs = parse_attribute_list(value, line)
    if not attrs.get("URI"):
        raise PlaylistParseError("EXT-X-MAP without URI", line)
    byterange = None
    if "BYTERANGE" in attrs:
        length, offset = parse_byterange_text(attrs["BYTERANGE"], line)
        byterange = ByteRange(length=length, offset=offset or 0)
    state.init_section = InitSection(uri=urljoin(state.base_url, attrs["URI"]), byterange=byterange)


def _tag_key(state: MediaState, value: str, line: int) -> None:
    try:
        attrs = parse_attribute_list(value, line)
    except PlaylistParseError:
        attrs = {}
    method = attrs.get("METHOD", "").upper()
    if not method:
        # Unreadable: assume the worst, so that segments under it are refused, never stored as ciphertext.
        state.encryption = Encryption(method="UNKNOWN", uri=None)
        raise PlaylistParseError("EXT-X-KEY without a readable METHOD", line)
    uri = attrs.get("URI")
    state.encryption = (
        None
        if method == "NONE"
        else Encryption(method=method, uri=urljoin(state.base_url, uri) if uri else None)
    )


def _tag_daterange(state: MediaState, value: str, line: int) -> None:
    attrs = parse_attribute_list(value, line)
    ad_id = attrs.get("ID", "")
    is_ad = (
        attrs.get("CLASS") == _STITCHED_AD_CLASS or ad_id.startswith("stitched-ad-") or "SCTE35-OUT" in attrs
    )
    if not is_ad or "START-DATE" not in attrs:
        return
    start = _parse_pdt(attrs["START-DATE"], line, "START-DATE")
    end: datetime | None = None
    if "END-DATE" in attrs:
        end = _parse_pdt(attrs["END-DATE"], line, "END-DATE")
    else:
        for key in ("DURATION", "PLANNED-DURATION"):
            if key in attrs:
                seconds = _parse_seconds(attrs[key], f"DATERANGE {key}", line)
                try:
                    end = start + timedelta(seconds=seconds)
                except OverflowError:
                    raise ImplausibleValue(f"DATERANGE {key} ends after year 9999", line) from None
                break
    state.ad_ranges.append(AdRange(id=ad_id, start=start, end=end))


_MEDIA_TAGS: dict[str, Callable[[MediaState, str, int], None]] = {
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
