"""Serve a live encoder's directory over HTTP on 127.0.0.1, optionally through seeded, configurable faults.

The server runs its own event loop in a thread, so synchronous tests (subprocess downloaders) and
async tests can both use it. The encoder keeps every segment listed (ground truth); the server
serves a sliding window of the last `window` segments, like a real live origin.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from tests.harness.threaded_app import ThreadedApp

PLAYLIST = "index.m3u8"


@dataclass(frozen=True, slots=True, kw_only=True)
class Faults:
    """Per-request fault probabilities (drawn in this order from one seeded RNG).

    error: answer 500. reset: drop the connection before answering. truncate: send the headers
    (full Content-Length) and part of the body, then drop. stall: pause `stall_seconds` (uniform)
    halfway through the body. `token_lifetime`: media URLs from the master playlist carry an expiry
    and answer 403 once it passed. `on_playlists`: also hit media playlists (the master never).
    """

    seed: int = 0
    error: float = 0.0
    reset: float = 0.0
    truncate: float = 0.0
    stall: float = 0.0
    stall_seconds: tuple[float, float] = (5.0, 10.0)
    token_lifetime: float | None = None
    on_playlists: bool = True


def window_playlist(text: str, window: int | None) -> str:
    """Keep the last `window` segments of a media playlist, adjusting EXT-X-MEDIA-SEQUENCE."""
    if window is None:
        return text
    header: list[str] = []
    groups: list[list[str]] = []
    current: list[str] = []
    tail: list[str] = []
    for line in text.splitlines():
        if line.startswith("#EXT-X-ENDLIST"):
            tail.append(line)
        elif not groups and not current and not line.startswith(("#EXTINF", "#EXT-X-PROGRAM-DATE-TIME")):
            header.append(line)
        else:
            current.append(line)
            if not line.startswith("#"):
                groups.append(current)
                current = []
    dropped = max(len(groups) - window, 0)
    out = []
    for line in header:
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            line = f"#EXT-X-MEDIA-SEQUENCE:{int(line.split(':', 1)[1]) + dropped}"
        out.append(line)
    for group in groups[dropped:]:
        out.extend(group)
    out.extend(tail)
    return "\n".join(out) + "\n"


class LiveSource:
    """HTTP origin for `directory` on 127.0.0.1: `/live/index.m3u8`, `/master.m3u8`, `/t/EXPIRY/...`."""

    def __init__(self, directory: Path, *, window: int | None = 8, faults: Faults | None = None) -> None:
        self.directory = directory
        self.window = window
        self.faults = faults or Faults()
        self.injected: collections.Counter[str] = collections.Counter()
        self.requests: collections.Counter[str] = collections.Counter()
        self._rng = random.Random(self.faults.seed)
        self._server = ThreadedApp()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def media_url(self) -> str:
        return f"{self.url}/live/{PLAYLIST}"

    @property
    def master_url(self) -> str:
        return f"{self.url}/master.m3u8"

    def __enter__(self) -> LiveSource:
        app = web.Application()
        app.router.add_get("/master.m3u8", self._master)
        app.router.add_get("/live/{name}", self._file)
        app.router.add_get("/t/{expiry}/{name}", self._file)
        self._server.start(app)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    async def _master(self, request: web.Request) -> web.Response:
        self.requests["master"] += 1
        path = "live/index.m3u8"
        if self.faults.token_lifetime is not None:
            path = f"t/{time.time() + self.faults.token_lifetime:.3f}/{PLAYLIST}"
        body = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180\n{path}\n"
        return web.Response(text=body, content_type="application/vnd.apple.mpegurl")

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        expiry = request.match_info.get("expiry")
        if expiry is not None and float(expiry) < time.time():
            self.injected["expired"] += 1
            return web.Response(status=403, text="token expired")
        if "/" in name or name.startswith(".") or name.endswith(".tmp"):
            return web.Response(status=404)
        is_playlist = name == PLAYLIST
        self.requests["playlist" if is_playlist else "segment"] += 1
        try:
            data = (self.directory / name).read_bytes()
        except FileNotFoundError:
            return web.Response(status=404, text="no such file")
        if is_playlist:
            data = window_playlist(data.decode(), self.window).encode()
        kind = "application/vnd.apple.mpegurl" if is_playlist else "video/mp2t"
        if is_playlist and not self.faults.on_playlists:
            return web.Response(body=data, content_type=kind)
        return await self._faulty(request, data, kind)

    async def _faulty(self, request: web.Request, data: bytes, kind: str) -> web.StreamResponse:
        f = self.faults
        roll = self._rng.random()
        stall = self._rng.uniform(*f.stall_seconds)
        cut = self._rng.randrange(1, max(len(data), 2))
        if roll < f.error:
            self.injected["error"] += 1
            return web.Response(status=500, text="injected error")
        roll -= f.error
        if roll < f.reset:
            self.injected["reset"] += 1
            assert request.transport is not None
            request.transport.abort()
            raise ConnectionResetError("injected reset")
        roll -= f.reset
        response = web.StreamResponse(headers={"Content-Type": kind})
        response.content_length = len(data)
        await response.prepare(request)
        if roll < f.truncate:
            self.injected["truncate"] += 1
            await response.write(data[:cut])
            assert request.transport is not None
            request.transport.abort()
            raise ConnectionResetError("injected truncation")
        roll -= f.truncate
        half = len(data) // 2
        await response.write(data[:half])
        if roll < f.stall:
            self.injected["stall"] += 1
            await asyncio.sleep(stall)
        await response.write(data[half:])
        await response.write_eof()
        return response


def source_segments(playlist_text: str) -> list[tuple[str, str, float]]:
    """(file name, raw PDT, EXTINF) of every segment in an encoder playlist, in order."""
    result = []
    pdt = ""
    duration = 0.0
    for line in playlist_text.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt = line.split(":", 1)[1]
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",")[0])
        elif line and not line.startswith("#"):
            result.append((line, pdt, duration))
    return result
