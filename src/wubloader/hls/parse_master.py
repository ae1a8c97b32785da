"""Parsing HLS master (multivariant) playlists: variants, renditions and twitch-style variant names.

Lenient by design: one odd variant or rendition is skipped (or kept with the bad attribute dropped)
with a warning naming its line, so that it never costs the other qualities.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urljoin

from wubloader.hls.parse_attributes import (
    PlaylistParseError,
    parse_attribute_list,
    parse_float,
    parse_int,
    parse_resolution,
    playlist_lines,
    split_tag,
)
from wubloader.hls.parse_records import MasterPlaylist, ParseWarning, Rendition, Variant

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
SOURCE_GROUP = "chunked"  # twitch's v1 group id of the source rendition


def is_master_playlist(text: str) -> bool:
    """Whether `text` is a master playlist (has variants) rather than a media playlist."""
    return "#EXT-X-STREAM-INF" in text


def parse_master_playlist(text: str, base_url: str) -> MasterPlaylist:
    """Parse a master playlist; relative URIs resolve against `base_url` (the URL after redirects).

    Raises PlaylistParseError only when the text is not a playlist or no variant is usable;
    every other bad line is skipped and reported in `warnings`.
    """
    warnings: list[ParseWarning] = []
    renditions: list[Rendition] = []
    pending: tuple[dict[str, str] | None, int] | None = None
    raw_variants: list[tuple[dict[str, str], str, int]] = []
    for number, line in playlist_lines(text):
        if line.startswith("#"):
            name, value = split_tag(line)
            if name == "#EXT-X-STREAM-INF":
                if pending is not None:
                    warnings.append(ParseWarning(line=pending[1], message="#EXT-X-STREAM-INF without a URI"))
                pending = (_attributes(value, number, name, warnings), number)
            elif name == "#EXT-X-MEDIA":
                rendition = _rendition(value, base_url, number, warnings)
                if rendition is not None:
                    renditions.append(rendition)
            continue
        if pending is None:
            warnings.append(ParseWarning(line=number, message="URI line without #EXT-X-STREAM-INF skipped"))
        elif pending[0] is not None:
            raw_variants.append((pending[0], urljoin(base_url, line), pending[1]))
        pending = None
    if pending is not None:
        warnings.append(ParseWarning(line=pending[1], message="#EXT-X-STREAM-INF without a URI"))
    variants = tuple(_variant(attrs, uri, renditions, line, warnings) for attrs, uri, line in raw_variants)
    if not variants:
        raise PlaylistParseError("master playlist has no usable variants")
    return MasterPlaylist(variants=variants, renditions=tuple(renditions), warnings=tuple(warnings))


def _attributes(value: str, line: int, tag: str, warnings: list[ParseWarning]) -> dict[str, str] | None:
    try:
        return parse_attribute_list(value, line)
    except PlaylistParseError as exc:
        warnings.append(ParseWarning(line=line, message=f"{tag} skipped: {exc.detail}"))
        return None


def _rendition(value: str, base_url: str, line: int, warnings: list[ParseWarning]) -> Rendition | None:
    attrs = _attributes(value, line, "#EXT-X-MEDIA", warnings)
    if attrs is None:
        return None
    missing = [key for key in ("TYPE", "GROUP-ID", "NAME") if not attrs.get(key)]
    if missing:
        warnings.append(ParseWarning(line=line, message=f"#EXT-X-MEDIA without {missing[0]} skipped"))
        return None
    uri = attrs.get("URI")
    return Rendition(
        type=attrs["TYPE"].upper(),
        group_id=attrs["GROUP-ID"],
        name=attrs["NAME"],
        uri=urljoin(base_url, uri) if uri else None,
        default=attrs.get("DEFAULT", "").upper() == "YES",
    )


def _bandwidth(attrs: dict[str, str], line: int, warnings: list[ParseWarning]) -> int:
    """BANDWIDTH as an integer; missing or junk → 0 (ranked last), a decimal → rounded, with a warning."""
    text = attrs.get("BANDWIDTH")
    if text is None:
        warnings.append(ParseWarning(line=line, message="#EXT-X-STREAM-INF without BANDWIDTH: ranked last"))
        return 0
    try:
        return parse_int(text, "BANDWIDTH", line)
    except PlaylistParseError:
        pass
    try:
        value = round(parse_float(text, "BANDWIDTH", line))
        warnings.append(
            ParseWarning(line=line, message=f"BANDWIDTH {text[:40]!r} is not an integer: rounded")
        )
        return value
    except PlaylistParseError as exc:
        warnings.append(ParseWarning(line=line, message=f"{exc.detail}: ranked last"))
        return 0


def _optional(
    attrs: dict[str, str], key: str, parse: Callable[[str, int], T], line: int, warnings: list[ParseWarning]
) -> T | None:
    """An optional attribute: a bad value is dropped (with a warning), the variant is kept."""
    if key not in attrs:
        return None
    try:
        return parse(attrs[key], line)
    except PlaylistParseError as exc:
        warnings.append(ParseWarning(line=line, message=f"{exc.detail}: attribute ignored"))
        return None


def _variant(
    attrs: dict[str, str], uri: str, renditions: list[Rendition], line: int, warnings: list[ParseWarning]
) -> Variant:
    video_group = attrs.get("VIDEO")
    rendition_names = [r.name for r in renditions if r.type == "VIDEO" and r.group_id == video_group]
    name = attrs.get("IVS-NAME") or (rendition_names[0] if rendition_names else None)
    is_source = attrs.get("IVS-VARIANT-SOURCE", "").lower() == "source" or (
        "IVS-VARIANT-SOURCE" not in attrs
        and (video_group == SOURCE_GROUP or (name is not None and "(source)" in name.lower()))
    )
    resolution = _optional(attrs, "RESOLUTION", parse_resolution, line, warnings)
    frame_rate = _optional(
        attrs, "FRAME-RATE", lambda text, n: parse_float(text, "FRAME-RATE", n), line, warnings
    )
    return Variant(
        uri=uri,
        bandwidth=_bandwidth(attrs, line, warnings),
        resolution=resolution,
        codecs=tuple(c.strip() for c in attrs.get("CODECS", "").split(",") if c.strip()),
        video_group=video_group,
        name=name,
        frame_rate=frame_rate,
        is_source=is_source,
        audio_group=attrs.get("AUDIO"),
    )
