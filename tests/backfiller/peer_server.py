"""A tiny real HTTP peer speaking the replication protocol over a store directory, with a request log.

Used by in-process tests that need to count requests or inject failures; end-to-end tests use real
restreamer processes instead.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import ClientSession, web

from wubloader.backfiller import Backfiller, BackfillerConfig, StaticNodeSource, peer_from_url
from wubloader.store.listing import list_channels, list_hours, list_qualities, list_segment_files


class PeerServer:
    """Serves `base` like a restreamer's `/files` and `/segments` routes on 127.0.0.1."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.requests: list[str] = []
        # the client address of each `/segments` request: one per connection used
        self.segment_clients: set[object] = set()
        # segment name -> how many more requests for it answer 500
        self.fail_segments: dict[str, int] = {}
        # how many more `/files` requests answer 503
        self.fail_listings = 0
        # "C/Q" or "C/Q/HOUR" -> names listed there besides the real ones (a hostile or broken peer)
        self.extra_names: dict[str, list[str]] = {}
        # segment name -> handler answering its `/segments` request instead of the file
        self.bodies: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    def _json(self, names: list[str]) -> web.Response:
        return web.Response(text=json.dumps(names), content_type="application/json")

    async def _files(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if self.fail_listings > 0:
            self.fail_listings -= 1
            raise web.HTTPServiceUnavailable(text="injected failure")
        parts = [p for p in request.match_info.get("rest", "").split("/") if p]
        if len(parts) == 0:
            return self._json(list_channels(self.base))
        if len(parts) == 1:
            return self._json(list_qualities(self.base, parts[0]))
        if len(parts) == 2:
            return self._json(
                list_hours(self.base, parts[0], parts[1]) + self.extra_names.get("/".join(parts), [])
            )
        tombstones = request.query.get("tombstones", "false") == "true"
        extra = self.extra_names.get("/".join(parts), [])
        return self._json(list_segment_files(self.base.joinpath(*parts), tombstones) + extra)

    async def _segment(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        self.segment_clients.add(request.transport and request.transport.get_extra_info("peername"))
        name = request.match_info["name"]
        if name in self.bodies:
            return await self.bodies[name](request)
        if self.fail_segments.get(name, 0) > 0:
            self.fail_segments[name] -= 1
            raise web.HTTPInternalServerError(text="injected failure")
        path = self.base / request.match_info["c"] / request.match_info["q"] / request.match_info["h"] / name
        if not path.is_file() or path.with_name(path.name[:-3] + ".tombstone").exists():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), content_type="video/mp2t")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/files", self._files)
        app.router.add_get("/files/{rest:.*}", self._files)
        app.router.add_get("/segments/{c}/{q}/{h}/{name}", self._segment)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self.url

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def segment_requests(self, name: str) -> int:
        return sum(1 for r in self.requests if r.startswith("/segments/") and r.endswith("/" + name))


def backfill_config(base: Path, **overrides: object) -> BackfillerConfig:
    """A config with short retry and breaker delays, so tests of failures run fast."""
    values: dict[str, object] = {
        "base_dir": base,
        "retry_initial": 0.05,
        "retry_maximum": 0.2,
        "breaker_initial": 0.05,
    }
    return BackfillerConfig(**{**values, **overrides})  # type: ignore[arg-type]


def make_backfiller(
    cfg: BackfillerConfig, session: ClientSession, *servers: PeerServer, **kwargs: object
) -> Backfiller:
    nodes = StaticNodeSource(peers=tuple(peer_from_url(s.url) for s in servers))
    return Backfiller(cfg, session=session, nodes=nodes, **kwargs)  # type: ignore[arg-type]
