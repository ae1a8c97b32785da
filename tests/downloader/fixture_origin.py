"""A local origin serving real-world fixture playlists (their hosts rewritten to it) and small segment bodies."""

from __future__ import annotations

import collections
import re
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from wubloader.store import hash_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "playlists"
_HOST_RE = re.compile(r"https?://[^/\s\"]+/")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def body_of(path: str) -> bytes:
    """The bytes the origin serves for a segment path (distinct per path)."""
    return (path.encode() + b"\n") * 50


class FixtureOrigin:
    """Serves `playlists` {path: text} (absolute URLs pointed at itself) and a body for any other path.

    `redirects` {path: target path} answer 302. Counts requests per path in `hits`.
    """

    def __init__(self, playlists: dict[str, str], redirects: dict[str, str] | None = None) -> None:
        self.playlists = playlists
        self.redirects = redirects or {}
        self.hits: collections.Counter[str] = collections.Counter()
        self.server: TestServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/")

    def url(self, path: str) -> str:
        return self.base + path

    async def start(self) -> FixtureOrigin:
        app = web.Application()
        app.router.add_get("/{path:.*}", self.handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] += 1
        if path in self.redirects:
            raise web.HTTPFound(self.redirects[path])
        if path in self.playlists:
            return web.Response(text=_HOST_RE.sub(self.base + "/", self.playlists[path]))
        if path.endswith(".m3u8"):
            return web.Response(status=404)
        return web.Response(body=body_of(path), content_type="video/mp2t")


def hash_of(path: str) -> str:
    return hash_bytes(body_of(path))
