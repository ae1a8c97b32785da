"""`/segments/{channel}/{quality}/{hour}/{file}`: segment bytes for peers and players (tombstoned → 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.schemas import BINARY_SCHEMA, path_arg
from wubloader.restreamer.segment_file import (
    SEGMENT_CONTENT_TYPE,
    open_segment,
    segment_response,
)
from wubloader.restreamer.segment_lane import SEGMENT_ROUTE
from wubloader.restreamer.state import state_of

if TYPE_CHECKING:
    from aiohttp import web

PATH_ARGS = ("channel", "quality", "hour", "file")


async def get_segment(request: web.Request) -> web.StreamResponse:
    """The segment file (Range → 206, conditional → 304); the ETag is the content hash in its name.

    A cache hit means these exact components already passed `path_arg` and `resolve`, so the
    validation is skipped; the tombstone, file type and symlink checks still run every time. Sent
    here, not after returning, so the request metrics time the whole answer and count one the
    client did not take (reset, send timeout) as `aborted`, as the fast lane does.
    """
    resolver = state_of(request).resolver
    info = request.match_info
    servable = resolver.cached((info["channel"], info["quality"], info["hour"], info["file"]))
    if servable is None:
        channel, quality, hour, name = (path_arg(request, k) for k in PATH_ARGS)
        servable = resolver.resolve(channel, quality, hour, name)
    segment = open_segment(servable)
    response = segment_response(request.headers, segment)
    try:
        await response.prepare(request)
    except OSError as exc:  # the head is out: all that is left is to drop the connection
        segment.note_unsent(exc)
        if request.transport is not None:
            request.transport.abort()  # aiohttp would keep it open, the client waiting for the rest
        raise ConnectionResetError(f"segment not sent: {exc}") from exc
    return response


def add_routes(app: web.Application) -> None:
    """Add the segment route."""
    add_documented_route(
        app,
        SEGMENT_ROUTE,
        get_segment,
        RouteDoc(
            summary="One segment file (Range, ETag/Last-Modified, conditional GET; 404 if tombstoned)",
            content_type=SEGMENT_CONTENT_TYPE,
            response_schema=BINARY_SCHEMA,
            extra_statuses={206: "partial content", 304: "not modified", 416: "range not satisfiable"},
        ),
    )
