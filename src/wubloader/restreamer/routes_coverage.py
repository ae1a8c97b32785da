"""`/coverage-maps/{name}` (the maps the coverage job writes) and `/coverage`, every node's maps side by side.

The page lists this node and every peer from `--nodes` and the database (`--db`); each image reloads
itself every 30 s.
"""

from __future__ import annotations

import asyncio
import html
import json
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.restreamer.coverage_peers import PEERS, CoveragePeers
from wubloader.restreamer.errors import NotFound
from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.schemas import BINARY_SCHEMA, path_arg
from wubloader.restreamer.state import STATE, state_of
from wubloader.store.extras import coverage_map_path, list_coverage_maps

if TYPE_CHECKING:
    from collections.abc import Sequence

REFRESH_SECONDS = 30
PAGE_STYLE = (
    "body{background:#222;color:#eee;font-family:sans-serif}section{margin-bottom:2em}"
    ".maps{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.9em;margin-bottom:.3em}"
    "img{image-rendering:pixelated;border:1px solid #555;background:#fff}"
    ".key span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}"
)
LEGEND = (
    '<p class="key">1 px = 2 s, a column = 10 minutes, oldest top left.'
    '<span style="background:#0072b2"></span>full'
    '<span style="background:#e69f00"></span>only suspect or partial'
    '<span style="background:#fff"></span>missing</p>'
)
RELOAD_SCRIPT = (
    "<script>setInterval(()=>{for(const i of document.querySelectorAll('img[data-src]'))"
    "i.src=i.dataset.src+'?t='+Date.now()},"
    f"{REFRESH_SECONDS * 1000});</script>"
)


async def get_coverage_map(request: web.Request) -> web.FileResponse:
    """One map file (never cached by the browser: it is rewritten every pass)."""
    name = path_arg(request, "name")
    path = await asyncio.to_thread(coverage_map_path, state_of(request).config.base_dir, name)
    if path is None:
        raise NotFound(f"no coverage map {name!r}")
    return web.FileResponse(path, headers={"Cache-Control": "no-cache", "Content-Type": "image/png"})


def render_page(maps: Sequence[str], peers: Sequence[str], problem: str | None = None) -> str:
    """The page: a section per map, a figure per node (this one first, with a relative URL)."""
    nodes = [("this node", "")] + [(url, url.rstrip("/")) for url in peers]
    node_list = "".join(f"<li>{html.escape(label)}</li>" for label, _ in nodes)
    sections = []
    for name in maps:
        figures = "".join(
            f'<figure><figcaption>{html.escape(label)}</figcaption><img alt="{html.escape(label)}" '
            f'data-src="{html.escape(prefix)}/coverage-maps/{html.escape(name)}" '
            f'src="{html.escape(prefix)}/coverage-maps/{html.escape(name)}"></figure>'
            for label, prefix in nodes
        )
        sections.append(f'<section><h2>{html.escape(name)}</h2><div class="maps">{figures}</div></section>')
    body = "".join(sections) or "<p>No coverage maps yet: run <code>wubloader coverage</code>.</p>"
    if problem is not None:
        body = f'<p class="problem">{html.escape(problem)}</p>{body}'
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Segment coverage maps</title>'
        f"<style>{PAGE_STYLE}</style></head><body><h1>Segment coverage maps</h1>{LEGEND}"
        f'<ul class="nodes" data-nodes="{html.escape(json.dumps([u for _, u in nodes]))}">{node_list}</ul>'
        f"{body}{RELOAD_SCRIPT}</body></html>"
    )


async def get_coverage_page(request: web.Request) -> web.Response:
    maps = await asyncio.to_thread(list_coverage_maps, state_of(request).config.base_dir)
    peers, problem = await request.app[PEERS].urls()
    page = render_page(maps, peers, problem)
    return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application) -> None:
    """Add the map and page routes (and the page's peer list, closed with the app)."""
    config = app[STATE].config
    peers = CoveragePeers(config.nodes, config.db_url)
    app[PEERS] = peers

    async def close_peers(_app: web.Application) -> None:
        peers.close()

    app.on_cleanup.append(close_peers)
    add_documented_route(
        app,
        "/coverage-maps/{name}",
        get_coverage_map,
        RouteDoc(summary="One coverage map (PNG)", content_type="image/png", response_schema=BINARY_SCHEMA),
    )
    add_documented_route(
        app,
        "/coverage",
        get_coverage_page,
        RouteDoc(summary="Every node's coverage maps side by side", content_type="text/html", errors=()),
    )
