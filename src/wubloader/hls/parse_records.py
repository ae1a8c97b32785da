"""Typed records produced by the HLS parser: master variants, media segments and their attached sections."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


class AdReason(enum.StrEnum):
    """Why a segment is an advertisement (a closed set: it labels the ads-skipped metric)."""

    SCTE35 = "scte35"
    AMAZON_TITLE = "amazon_title"
    DATERANGE = "daterange"


class WarningKind(enum.StrEnum):
    """Why a playlist line was skipped: unreadable, or readable but impossible for a live stream."""

    MALFORMED = "malformed"
    IMPLAUSIBLE = "implausible"


@dataclass(frozen=True, slots=True, kw_only=True)
class ParseWarning:
    """One skipped line: the rest of the playlist was still parsed."""

    line: int
    message: str
    kind: WarningKind = WarningKind.MALFORMED

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ByteRange:
    """`length` bytes from `offset` of the resource (offset already resolved from the previous range)."""

    length: int
    offset: int

    @property
    def header(self) -> str:
        """The HTTP Range header value for this range."""
        return f"bytes={self.offset}-{self.offset + self.length - 1}"


@dataclass(frozen=True, slots=True, kw_only=True)
class InitSection:
    """An `EXT-X-MAP` init section, prepended to each segment it applies to."""

    uri: str
    byterange: ByteRange | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Encryption:
    """An `EXT-X-KEY` other than METHOD=NONE; segments under it are ciphertext."""

    method: str
    uri: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdRange:
    """A stitched-ad `EXT-X-DATERANGE`: segments starting in [start, end) are ads (end None = open)."""

    id: str
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaSegment:
    """One media segment: its absolute URI, EXTINF duration and the tags that applied to it.

    `gap_before`: a segment right before this one was skipped (bad line), so its duration is unknown
    and time must not be carried across it.
    """

    uri: str
    duration: float
    title: str
    sequence: int
    discontinuity: bool = False
    discontinuity_sequence: int = 0
    program_date_time: datetime | None = None
    byterange: ByteRange | None = None
    init_section: InitSection | None = None
    encryption: Encryption | None = None
    ad_reason: AdReason | None = None
    gap_before: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaPlaylist:
    """A media playlist; `segments` excludes twitch prefetch entries (never complete).

    `warnings` are the lines skipped by this parse (an incremental parse reports only new lines);
    `unchanged` counts leading segments known identical to the previous parse of the same parser.
    """

    target_duration: int | None
    media_sequence: int
    discontinuity_sequence: int
    segments: tuple[MediaSegment, ...]
    endlist: bool
    playlist_type: str | None
    ad_ranges: tuple[AdRange, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()
    unchanged: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendition:
    """An `EXT-X-MEDIA` entry (twitch names its video renditions here: `1080p60 (source)`)."""

    type: str
    group_id: str
    name: str
    uri: str | None
    default: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """An `EXT-X-STREAM-INF` variant.

    `name`: twitch's quality name, from `IVS-NAME` (usher v2) or its VIDEO rendition's NAME (v1).
    `is_source`: twitch marks it as the broadcast's own rendition (`IVS-VARIANT-SOURCE="source"`,
    or a v1 NAME with "(source)" / the `chunked` group). `bandwidth` 0 = unknown (ranked last).
    `audio_group`: its `AUDIO` group, whose rendition carries the sound when it has a URI.
    """

    uri: str
    bandwidth: int
    resolution: tuple[int, int] | None
    codecs: tuple[str, ...]
    video_group: str | None
    name: str | None
    frame_rate: float | None
    is_source: bool = False
    audio_group: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterPlaylist:
    """A master (multivariant) playlist."""

    variants: tuple[Variant, ...]
    renditions: tuple[Rendition, ...]
    warnings: tuple[ParseWarning, ...] = ()
