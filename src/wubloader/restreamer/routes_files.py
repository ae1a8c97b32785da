"""`/files…`: the replication listings (channels, qualities, hours, segment names), as JSON arrays.

Compatible with the original: a missing channel/quality/hour lists as `[]`; tombstoned segments are
hidden, and `?tombstones=true` appends the `.tombstone` names. A directory whose real path leads out
of the store (a symlink) is 403, as on every route (see SegmentResolver). Directories are read in the
replication pool (`RestreamerState.replication`), so playback, cut or image work never delays peers.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.schemas import NAME_LIST_SCHEMA, TombstonesQuery, parse_query, path_arg
from wubloader.restreamer.state import state_of
from wubloader.store.listing import list_channels, list_hours, list_qualities


def json_names(names: list[str]) -> web.Response:
    return web.Response(body=json.dumps(names).encode(), content_type="application/json")


async def list_channels_route(request: web.Request) -> web.Response:
    state = state_of(request)
    return json_names(await state.replication.run(list_channels, state.config.base_dir))


async def list_qualities_route(request: web.Request) -> web.Response:
    state = state_of(request)
    channel = path_arg(request, "channel")
    state.resolver.directory(channel)
    return json_names(await state.replication.run(list_qualities, state.config.base_dir, channel))


async def list_hours_route(request: web.Request) -> web.Response:
    state = state_of(request)
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    state.resolver.directory(channel, quality)
    return json_names(await state.replication.run(list_hours, state.config.base_dir, channel, quality))


async def list_segments_route(request: web.Request) -> web.Response:
    query = parse_query(request, TombstonesQuery)
    parts = [path_arg(request, k) for k in ("channel", "quality", "hour")]
    hour_dir = Path(state_of(request).resolver.directory(*parts))
    listing = await state_of(request).listings.listing(hour_dir, query.tombstones == "true")
    # Peers poll every hour every pass: an unchanged past hour costs them a 304 and no parsing.
    if request.headers.get("If-None-Match") == listing.etag:
        return web.Response(status=304, headers={"ETag": listing.etag})
    return web.Response(body=listing.body, content_type="application/json", headers={"ETag": listing.etag})


def add_routes(app: web.Application) -> None:
    """Add the four listing routes."""
    listing = "application/json"
    add_documented_route(
        app,
        "/files",
        list_channels_route,
        RouteDoc(summary="List channels", content_type=listing, response_schema=NAME_LIST_SCHEMA, errors=()),
    )
    add_documented_route(
        app,
        "/files/{channel}",
        list_qualities_route,
        RouteDoc(
            summary="List a channel's qualities", content_type=listing, response_schema=NAME_LIST_SCHEMA
        ),
    )
    add_documented_route(
        app,
        "/files/{channel}/{quality}",
        list_hours_route,
        RouteDoc(summary="List hour directories", content_type=listing, response_schema=NAME_LIST_SCHEMA),
    )
    add_documented_route(
        app,
        "/files/{channel}/{quality}/{hour}",
        list_segments_route,
        RouteDoc(
            summary="List segment names of one hour (tombstoned ones hidden)",
            content_type=listing,
            response_schema=NAME_LIST_SCHEMA,
            query=TombstonesQuery,
        ),
    )
