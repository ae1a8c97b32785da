"""`/segments/{channel}/{quality}/{hour}/{file}`: segment bytes for peers and players (tombstoned → 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.schemas import path_arg
from wubloader.restreamer.segment_file import (
    SEGMENT_CONTENT_TYPE,
    open_segment,
    segment_response,
)
from wubloader.restreamer.state import state_of

if TYPE_CHECKING:
    from aiohttp import web


async def get_segment(request: web.Request) -> web.StreamResponse:
    """The segment file (Range → 206, conditional → 304); the ETag is the content hash in its name."""
    channel, quality, hour, name = (path_arg(request, k) for k in ("channel", "quality", "hour", "file"))
    real = state_of(request).resolver.resolve(channel, quality, hour, name)
    digest = name[:-3].split("-", 3)[-1]
    return segment_response(request.headers, open_segment(real, f'"{digest}"'))


def add_routes(app: web.Application) -> None:
    """Add the segment route."""
    add_documented_route(
        app,
        "/segments/{channel}/{quality}/{hour}/{file}",
        get_segment,
        RouteDoc(
            summary="One segment file (Range, ETag/Last-Modified, conditional GET; 404 if tombstoned)",
            content_type=SEGMENT_CONTENT_TYPE,
            response_schema={"type": "string", "format": "binary"},
            extra_statuses={206: "partial content", 304: "not modified", 416: "range not satisfiable"},
        ),
    )
