"""Fetching and parsing one media playlist URL, poll after poll, without blocking the event loop.

Relative URIs resolve against the URL the playlist finally came from (after redirects). A growing
EVENT playlist is parsed incrementally; a large text is parsed in the downloader's executor. The
size cap grows with the window, so long tokenised URIs never stop a day-long archive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from wubloader.downloader.metrics import ERRORS, FETCH_LATENCY, ErrorKind, FetchWhat
from wubloader.hls.parse_records import WarningKind
from wubloader.hls.parser import MediaPlaylistParser
from wubloader.runtime.errors import FetchTooLarge
from wubloader.runtime.http_client import fetch_resource

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Executor

    import aiohttp

    from wubloader.hls.parse_records import MediaPlaylist

logger = logging.getLogger(__name__)

BASE_PLAYLIST_BYTES = 4 * 1024 * 1024
# Each listed segment may bring this much text on top (PDT, EXTINF, a long signed URI).
PLAYLIST_BYTES_PER_SEGMENT = 2048
MAX_PLAYLIST_BYTES = 256 * 1024 * 1024
# Parsing more than this on the loop could stall it for more than a few milliseconds.
OFF_LOOP_BYTES = 256 * 1024
REMEMBERED_NOTES = 512


def playlist_limit(segments: int) -> int:
    """The size cap for the next poll of a playlist that listed `segments` segments."""
    return min(BASE_PLAYLIST_BYTES + PLAYLIST_BYTES_PER_SEGMENT * segments, MAX_PLAYLIST_BYTES)


class Notes:
    """Logs each distinct playlist problem once (a sliding window shows the same bad line every poll)."""

    def __init__(self, channel: str, quality: str) -> None:
        self.channel = channel
        self.quality = quality
        self._seen: OrderedDict[str, None] = OrderedDict()

    def note(self, message: str, kind: ErrorKind, where: str = "") -> None:
        """Log `message` (+ `where`) as a warning and count it under `kind`, unless noted recently.

        `where` (a line number) is not part of the identity: lines shift as a window slides.
        """
        if message in self._seen:
            self._seen.move_to_end(message)
            return
        self._seen[message] = None
        while len(self._seen) > REMEMBERED_NOTES:
            self._seen.popitem(last=False)
        ERRORS.labels(self.channel, self.quality, kind).inc()
        logger.warning("%s: %s%s", self.quality, message, where)


class PlaylistReader:
    """Fetches `url` and returns its parsed playlist; skipped lines are logged once and counted."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        timeout: float,
        notes: Notes,
        executor: Executor | None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.url = url
        self.timeout = timeout
        self.notes = notes
        self.executor = executor
        self.monotonic = monotonic
        self.max_bytes = BASE_PLAYLIST_BYTES
        self.parser: MediaPlaylistParser | None = None

    async def read(self) -> MediaPlaylist:
        """One poll. Raises FetchError (incl. FetchTooLarge) or PlaylistParseError (not a playlist)."""
        started = self.monotonic()
        try:
            fetched = await fetch_resource(
                self.session,
                self.url,
                timeout=self.timeout,
                max_bytes=self.max_bytes,
                name="downloader_playlist",
            )
        except FetchTooLarge:
            # Joining a day-long window (a restart mid-stream): allow more on the next poll, up to the limit.
            self.max_bytes = min(self.max_bytes * 4, MAX_PLAYLIST_BYTES)
            raise
        FETCH_LATENCY.labels(self.notes.quality, FetchWhat.PLAYLIST).observe(self.monotonic() - started)
        if self.parser is None or self.parser.base_url != fetched.url:
            self.parser = MediaPlaylistParser(fetched.url)
        if len(fetched.body) > OFF_LOOP_BYTES:
            loop = asyncio.get_running_loop()
            playlist = await loop.run_in_executor(self.executor, _parse, self.parser, fetched.body)
        else:
            playlist = _parse(self.parser, fetched.body)
        self.max_bytes = playlist_limit(len(playlist.segments))
        for warning in playlist.warnings:
            implausible = warning.kind is WarningKind.IMPLAUSIBLE
            kind = ErrorKind.IMPLAUSIBLE if implausible else ErrorKind.PLAYLIST_LINE
            self.notes.note(f"playlist {warning.message}", kind, f" (line {warning.line})")
        return playlist


def _parse(parser: MediaPlaylistParser, body: bytes) -> MediaPlaylist:
    return parser.parse(body.decode("utf-8", errors="replace"))
