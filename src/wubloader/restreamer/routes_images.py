"""`/waveform/{channel}/{quality}.png` and `/frame/{channel}/{quality}.png`: images rendered by media/."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from wubloader.media.frame import extract_frame
from wubloader.media.waveform import render_waveform
from wubloader.restreamer.errors import BadRequest, NoContent
from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.ranges import check_range, quality_hours_async
from wubloader.restreamer.schemas import BINARY_SCHEMA, FrameQuery, WaveformQuery, parse_query, path_arg
from wubloader.restreamer.state import state_of

PNG = "image/png"
# An instant inside the last frame of a segment needs the next one; 1 s reaches it for any rate.
FRAME_LOOKAHEAD = timedelta(seconds=1)


async def waveform(request: web.Request) -> web.Response:
    """The audio waveform of [start, end), holes skipped."""
    state = state_of(request)
    config = state.config
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    query = parse_query(request, WaveformQuery)
    width, height = query.dimensions()
    if not (1 <= width <= config.max_image_side and 1 <= height <= config.max_image_side):
        raise BadRequest(f"size must be between 1x1 and {config.max_image_side}x{config.max_image_side}")
    check_range(query.start, query.end, config.max_image_range, "the waveform limit")
    await quality_hours_async(config.base_dir, channel, quality)
    chain = await state.index.best_segments_async(channel, quality, query.start, query.end)
    paths = [seg.path for seg in chain if seg is not None]
    if not paths:
        raise NoContent("no content in the requested range")
    async with state.media_slot():
        image = await render_waveform(paths, width, height, time_limit=config.media_time_limit)
    return web.Response(body=image, content_type=PNG)


async def frame(request: web.Request) -> web.Response:
    """The video frame shown at `timestamp` (at most one frame interval later)."""
    state = state_of(request)
    config = state.config
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    when = parse_query(request, FrameQuery).timestamp
    await quality_hours_async(config.base_dir, channel, quality)
    chain = await state.index.best_segments_async(channel, quality, when, when + FRAME_LOOKAHEAD)
    first = chain[0] if chain else None
    if first is None or not first.start <= when < first.end:
        raise NoContent("no content at the requested time")
    paths = [first.path]
    if len(chain) > 1 and chain[1] is not None:
        paths.append(chain[1].path)
    offset = (when - first.start).total_seconds()
    async with state.media_slot():
        image = await extract_frame(paths, offset, time_limit=config.media_time_limit)
    return web.Response(body=image, content_type=PNG)


def add_routes(app: web.Application) -> None:
    """Add the waveform and frame routes."""
    add_documented_route(
        app,
        "/waveform/{channel}/{quality}.png",
        waveform,
        RouteDoc(
            summary="Audio waveform PNG of [start, end) (at most 6 h), holes skipped",
            content_type=PNG,
            response_schema=BINARY_SCHEMA,
            query=WaveformQuery,
            errors=(400, 403, 404, 406),
        ),
    )
    add_documented_route(
        app,
        "/frame/{channel}/{quality}.png",
        frame,
        RouteDoc(
            summary="The video frame shown at `timestamp`, as PNG",
            content_type=PNG,
            response_schema=BINARY_SCHEMA,
            query=FrameQuery,
            errors=(400, 403, 404, 406),
        ),
    )
