"""`/waveform/…` (a PNG, or an hour's peak levels) and `/frame/…` (a PNG): rendered by media/."""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web

from wubloader.media.waveform import render_waveform
from wubloader.restreamer.errors import BadRequest, NoContent
from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.ranges import check_range, quality_hours_async
from wubloader.restreamer.schemas import BINARY_SCHEMA, FrameQuery, WaveformQuery, parse_query, path_arg
from wubloader.restreamer.state import state_of
from wubloader.store.errors import BadSegmentName
from wubloader.store.naming import parse_hour
from wubloader.thumbnails.errors import NoFrameAt
from wubloader.thumbnails.frames import frame_at

PNG = "image/png"
OCTETS = "application/octet-stream"


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
    state.resolver.directory(channel, quality)
    await quality_hours_async(config.base_dir, channel, quality)
    chain = await state.index.best_segments_async(channel, quality, query.start, query.end)
    await asyncio.to_thread(state.resolver.confine, chain, files=True)
    paths = [seg.path for seg in chain if seg is not None]
    if not paths:
        raise NoContent("no content in the requested range")
    async with state.media_slot():
        image = await render_waveform(paths, width, height, time_limit=config.media_time_limit)
    return web.Response(body=image, content_type=PNG)


async def hour_peaks(request: web.Request) -> web.Response:
    """One byte per 50 ms of the hour: the audio's peak level (0-254, square-root scale), 255 = none."""
    state = state_of(request)
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    try:
        hour = parse_hour(request.match_info["hour"])
    except BadSegmentName as exc:
        raise BadRequest(f"{exc}: expected YYYY-MM-DDTHH") from None
    state.resolver.directory(channel, quality)
    await quality_hours_async(state.config.base_dir, channel, quality)
    peaks = await state.peaks.hour_peaks(channel, quality, hour)
    return web.Response(body=peaks, content_type=OCTETS)


async def frame(request: web.Request) -> web.Response:
    """The video frame shown at `timestamp` (at most one frame interval later)."""
    state = state_of(request)
    config = state.config
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    when = parse_query(request, FrameQuery).timestamp
    state.resolver.directory(channel, quality)
    await quality_hours_async(config.base_dir, channel, quality)
    async with state.media_slot():
        try:
            image = await frame_at(
                state.index,
                channel,
                quality,
                when,
                time_limit=config.media_time_limit,
                confine=functools.partial(state.resolver.confine, files=True),
            )
        except NoFrameAt:
            raise NoContent("no content at the requested time") from None
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
        "/waveform/{channel}/{quality}/{hour}.peaks",
        hour_peaks,
        RouteDoc(
            summary="The hour's audio peaks: 20 bytes per second (0-254, square-root scale; 255 = no audio)",
            path_params={"hour": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$"}},
            content_type=OCTETS,
            response_schema=BINARY_SCHEMA,
            errors=(400, 403, 404, 503),
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
