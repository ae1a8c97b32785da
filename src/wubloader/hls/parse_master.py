"""Parsing HLS master (multivariant) playlists: variants, renditions and twitch-style variant names."""

from __future__ import annotations

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
from wubloader.hls.parse_records import MasterPlaylist, Rendition, Variant


def is_master_playlist(text: str) -> bool:
    """Whether `text` is a master playlist (has variants) rather than a media playlist."""
    return "#EXT-X-STREAM-INF" in text


def parse_master_playlist(text: str, base_url: str) -> MasterPlaylist:
    """Parse a master playlist: variants (with twitch-style names from VIDEO renditions) and renditions.

    Raises PlaylistParseError for malformed input or a playlist without variants.
    """
    renditions: list[Rendition] = []
    pending: tuple[dict[str, str], int] | None = None
    raw_variants: list[tuple[dict[str, str], str, int]] = []
    for number, line in playlist_lines(text):
        if line.startswith("#"):
            name, value = split_tag(line)
            if name == "#EXT-X-STREAM-INF":
                pending = (parse_attribute_list(value, number), number)
            elif name == "#EXT-X-MEDIA":
                renditions.append(_rendition(parse_attribute_list(value, number), base_url, number))
            continue
        if pending is None:
            raise PlaylistParseError("URI line without a preceding #EXT-X-STREAM-INF", number)
        raw_variants.append((pending[0], urljoin(base_url, line), pending[1]))
        pending = None
    if pending is not None:
        raise PlaylistParseError("#EXT-X-STREAM-INF without a URI", pending[1])
    if not raw_variants:
        raise PlaylistParseError("master playlist has no variants")
    variants = tuple(_variant(attrs, uri, renditions, line) for attrs, uri, line in raw_variants)
    return MasterPlaylist(variants=variants, renditions=tuple(renditions))


def _rendition(attrs: dict[str, str], base_url: str, line: int) -> Rendition:
    for key in ("TYPE", "GROUP-ID", "NAME"):
        if not attrs.get(key):
            raise PlaylistParseError(f"EXT-X-MEDIA without {key}", line)
    uri = attrs.get("URI")
    return Rendition(
        type=attrs["TYPE"].upper(),
        group_id=attrs["GROUP-ID"],
        name=attrs["NAME"],
        uri=urljoin(base_url, uri) if uri else None,
    )


def _variant(attrs: dict[str, str], uri: str, renditions: list[Rendition], line: int) -> Variant:
    if "BANDWIDTH" not in attrs:
        raise PlaylistParseError("EXT-X-STREAM-INF without BANDWIDTH", line)
    video_group = attrs.get("VIDEO")
    names = [r.name for r in renditions if r.type == "VIDEO" and r.group_id == video_group]
    return Variant(
        uri=uri,
        bandwidth=parse_int(attrs["BANDWIDTH"], "BANDWIDTH", line),
        resolution=parse_resolution(attrs["RESOLUTION"], line) if "RESOLUTION" in attrs else None,
        codecs=tuple(c.strip() for c in attrs.get("CODECS", "").split(",") if c.strip()),
        video_group=video_group,
        name=names[0] if names else None,
        frame_rate=parse_float(attrs["FRAME-RATE"], "FRAME-RATE", line) if "FRAME-RATE" in attrs else None,
    )
