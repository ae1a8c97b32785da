"""Stream providers: turn a source into one media playlist URL per quality (generic HLS URL here).

A provider is asked again whenever a worker reports trouble or its URL reaches `url_max_age`; a
different URL for a quality starts a new worker alongside the old one (see manager.py).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import TYPE_CHECKING, Protocol

from wubloader.downloader.errors import StreamOffline
from wubloader.downloader.metrics import FETCH_LATENCY, FetchWhat
from wubloader.hls.parser import is_master_playlist, parse_master_playlist
from wubloader.hls.playlist import audio_quality
from wubloader.runtime.errors import FetchHTTPError, FetchTooLarge
from wubloader.runtime.http_client import iter_body, redact_url

if TYPE_CHECKING:
    import aiohttp

    from wubloader.hls.parse_records import MasterPlaylist, Rendition, Variant

MAX_PLAYLIST_BYTES = 4 * 1024 * 1024
_HEIGHT_RE = re.compile(r"([0-9]+)p([0-9]+)?")
SOURCE = "source"
logger = logging.getLogger(__name__)


class Provider(Protocol):
    """Where media playlist URLs come from. `url_max_age` None: a URL never needs replacing by age."""

    url_max_age: float | None

    async def media_urls(self, session: aiohttp.ClientSession, qualities: tuple[str, ...]) -> dict[str, str]:
        """{quality: media playlist URL} for the requested qualities that are available now.

        Raises StreamOffline when the stream is not live, ProviderError for an unusable API answer,
        FetchError for network trouble, PlaylistParseError for a malformed master playlist.
        """
        ...


def _is_h264(variant: Variant) -> bool:
    """H.264 video (or codecs not declared); an audio-only variant is not."""
    codecs = variant.codecs
    if not codecs:
        return True
    return any(c.startswith("avc1") for c in codecs) and all(c.startswith(("avc1", "mp4a")) for c in codecs)


def _best(candidates: list[Variant]) -> Variant | None:
    """Prefer H.264 (what every consumer can cut), then the highest bandwidth: a deliberate, stable choice."""
    if not candidates:
        return None
    return max(candidates, key=lambda v: (_is_h264(v), v.bandwidth))


def quality_name(variant: Variant) -> str | None:
    """The name a quality is chosen by: twitch's name without its " (source)" mark, lower case."""
    if variant.name is None:
        return None
    return variant.name.lower().replace("(source)", "").strip()


def pick_variant(master: MasterPlaylist, quality: str) -> Variant | None:
    """The variant for `quality`, or None if absent.

    `source` = the variant twitch marks as the broadcast's own (usher v2 `IVS-VARIANT-SOURCE`, v1
    "(source)" name or `chunked` group; the largest if several are marked), else the best variant
    (H.264 first, then bandwidth). Other names: an exact (case-insensitive) name, the twitch name
    (`1080p60`, `audio_only`), else `480p`/`720p60` by resolution height (and frame rate).
    """
    wanted = quality.lower()
    named = [v for v in master.variants if v.name is not None and wanted in (v.name.lower(), quality_name(v))]
    if named:
        return _best(named)
    if wanted == SOURCE:
        marked = [v for v in master.variants if v.is_source]
        if marked:
            return max(marked, key=lambda v: v.bandwidth)
        return _best([v for v in master.variants if v.resolution is not None] or list(master.variants))
    match = _HEIGHT_RE.fullmatch(wanted)
    if match is None:
        return None
    height = int(match[1])
    fps = int(match[2]) if match[2] else None
    return _best(
        [
            v
            for v in master.variants
            if v.resolution is not None
            and v.resolution[1] == height
            and (fps is None or (v.frame_rate is not None and round(v.frame_rate) == fps))
        ]
    )


def pick_variants(master: MasterPlaylist, qualities: tuple[str, ...]) -> dict[str, str]:
    """{quality: URI} for every quality `pick_variant` finds; warnings about the master are logged.

    A variant whose sound comes from a separate `EXT-X-MEDIA TYPE=AUDIO` rendition (with a URI)
    also yields `QUALITY-audio`: archiving only the variant would silently lose the sound.
    """
    for warning in master.warnings:
        logger.warning("master playlist %s", warning)
    result = {}
    for quality in qualities:
        variant = pick_variant(master, quality)
        if variant is None:
            continue
        result[quality] = variant.uri
        audio = audio_rendition(master, variant)
        if audio is not None and audio.uri is not None and audio.uri != variant.uri:
            result[audio_quality(quality)] = audio.uri
    return result


def audio_rendition(master: MasterPlaylist, variant: Variant) -> Rendition | None:
    """The separate audio rendition a variant plays with: its AUDIO group's DEFAULT one, else the first."""
    if variant.audio_group is None:
        return None
    group = [
        r for r in master.renditions if r.type == "AUDIO" and r.group_id == variant.audio_group and r.uri
    ]
    return next((r for r in group if r.default), group[0] if group else None)


class GenericProvider:
    """Any HLS URL: a master playlist (variants picked by name or resolution) or a media playlist.

    A media playlist URL serves the quality `source` only, forever (it never expires by age).
    A 404 on the URL means offline.
    """

    url_max_age: float | None = None

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    async def media_urls(self, session: aiohttp.ClientSession, qualities: tuple[str, ...]) -> dict[str, str]:
        started = time.perf_counter()
        try:
            text, final_url = await _read_master(session, self.url, self.timeout)
        except FetchHTTPError as exc:
            if exc.status in (404, 410):
                raise StreamOffline(f"{exc.url} answered {exc.status}") from exc
            raise
        FETCH_LATENCY.labels("all", FetchWhat.MASTER).observe(time.perf_counter() - started)
        if text is None:
            return {SOURCE: self.url} if SOURCE in qualities else {}
        # Relative variant URIs resolve against where the master finally came from (a CDN redirect).
        return pick_variants(parse_master_playlist(text, final_url), qualities)


async def _read_master(session: aiohttp.ClientSession, url: str, time_limit: float) -> tuple[str | None, str]:
    """(master playlist text, final URL), or (None, URL) as soon as the text shows a media playlist.

    A media playlist may be a day long and many megabytes: only its first segment line is read here.
    Raises FetchError (FetchTooLarge for a master over MAX_PLAYLIST_BYTES).
    """
    final: list[str] = []
    received = bytearray()
    body = iter_body(session, url, timeout=time_limit, name="downloader_master", on_url=final.append)
    async with contextlib.aclosing(body):
        async for chunk in body:
            received += chunk
            head = received.decode("utf-8", errors="replace")
            if "#EXTINF" in head and not is_master_playlist(head):
                return None, url
            if len(received) > MAX_PLAYLIST_BYTES:
                shown = redact_url(url)
                raise FetchTooLarge(f"master playlist {shown} is over {MAX_PLAYLIST_BYTES} bytes", shown)
    text = received.decode("utf-8", errors="replace")
    return (text if is_master_playlist(text) else None), (final[0] if final else url)
