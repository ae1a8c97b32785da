"""Stream providers: turn a source into one media playlist URL per quality (generic HLS URL here).

A provider is asked again whenever a worker reports trouble or its URL reaches `url_max_age`; a
different URL for a quality starts a new worker alongside the old one (see manager.py).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Protocol

from wubloader.downloader.errors import StreamOffline
from wubloader.downloader.metrics import FETCH_LATENCY, FetchWhat
from wubloader.hls.parser import is_master_playlist, parse_master_playlist
from wubloader.runtime.errors import FetchHTTPError
from wubloader.runtime.http_client import fetch_bytes

if TYPE_CHECKING:
    import aiohttp

    from wubloader.hls.parse_records import MasterPlaylist, Variant

MAX_PLAYLIST_BYTES = 4 * 1024 * 1024
_HEIGHT_RE = re.compile(r"([0-9]+)p([0-9]+)?")
SOURCE = "source"


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
    return not variant.codecs or all(c.startswith(("avc1", "mp4a")) for c in variant.codecs)


def _best(candidates: list[Variant]) -> Variant | None:
    """Prefer H.264 (what every consumer can cut), then the highest bandwidth: a deliberate, stable choice."""
    if not candidates:
        return None
    return max(candidates, key=lambda v: (_is_h264(v), v.bandwidth))


def pick_variant(master: MasterPlaylist, quality: str) -> Variant | None:
    """The variant for `quality`: exact name, else `source` = the `(source)`-named or best variant,
    else `480p`/`720p60`-style by resolution height (and frame rate when given). None if absent."""
    wanted = quality.lower()
    named = [v for v in master.variants if v.name is not None and v.name.lower() == wanted]
    if named:
        return _best(named)
    if wanted == SOURCE:
        marked = [v for v in master.variants if v.name is not None and "(source)" in v.name.lower()]
        return _best(
            marked or [v for v in master.variants if v.resolution is not None] or list(master.variants)
        )
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
    """{quality: URI} for every quality `pick_variant` finds."""
    result = {}
    for quality in qualities:
        variant = pick_variant(master, quality)
        if variant is not None:
            result[quality] = variant.uri
    return result


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
            body = await fetch_bytes(
                session,
                self.url,
                timeout=self.timeout,
                max_bytes=MAX_PLAYLIST_BYTES,
                name="downloader_master",
            )
        except FetchHTTPError as exc:
            if exc.status in (404, 410):
                raise StreamOffline(f"{exc.url} answered {exc.status}") from exc
            raise
        FETCH_LATENCY.labels("all", FetchWhat.MASTER).observe(time.perf_counter() - started)
        text = body.decode("utf-8", errors="replace")
        if not is_master_playlist(text):
            return {SOURCE: self.url} if SOURCE in qualities else {}
        return pick_variants(parse_master_playlist(text, self.url), qualities)
