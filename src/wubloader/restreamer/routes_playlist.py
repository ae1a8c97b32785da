"""`/playlist/{channel}.m3u8` (master) and `/playlist/{channel}/{quality}.m3u8` (media) for any time range."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from wubloader.hls.playlist import Variant, plan_media_playlist, render_master_playlist, render_media_playlist
from wubloader.restreamer.errors import NotFound
from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.ranges import (
    MAX_RANGE_SETTING,
    ONE_HOUR,
    HourSpan,
    check_range,
    quality_hours,
    resolve_request_window,
)
from wubloader.restreamer.schemas import RangeQuery, parse_query, path_arg
from wubloader.restreamer.state import RestreamerState, state_of
from wubloader.store.listing import list_qualities

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from wubloader.store.naming import Segment
    from wubloader.store.selection import SegmentIndex

logger = logging.getLogger(__name__)

PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
NON_VIDEO_QUALITIES = frozenset({"chat"})
BANDWIDTH_SAMPLE = 30
DEFAULT_BANDWIDTH = 6_846_146


async def media_playlist(request: web.Request) -> web.StreamResponse:
    """The media playlist for [start, end); streamed in ~100 KB chunks once everything is validated.

    At most `max_playlist_jobs` are selected and rendered at once; more wait their turn.
    """
    state = state_of(request)
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    query = parse_query(request, RangeQuery)
    config = state.config
    async with state.playback:  # a few playlists at a time: the loop stays free for peers
        window = await resolve_request_window(
            config.base_dir,
            channel,
            quality,
            query.start,
            query.end,
            max_implicit=config.max_implicit_range,
            max_range=config.max_range,
        )
        chain = await state.index.best_segments_async(channel, quality, window.start, window.end)
        plan = plan_media_playlist(
            chain, end=window.end, now=state.now(), live=window.live, live_edge=config.live_edge
        )
        # Rendered inside the slot, sent outside it: a client that reads slowly holds no slot.
        chunks = []
        for chunk in render_media_playlist(plan, state.entries, config.playlist_chunk_bytes):
            chunks.append(chunk)
            await asyncio.sleep(0)  # rendering is CPU work on the loop: let other requests in
    return await stream_text(request, chunks, cache_control="no-cache")


async def stream_text(
    request: web.Request, chunks: Iterable[str], *, cache_control: str
) -> web.StreamResponse:
    """Send ASCII text chunks as a chunked response (validation is finished before this is called).

    A client that goes away mid-stream ends the response quietly: there is nobody to tell.
    """
    headers = {"Content-Type": PLAYLIST_CONTENT_TYPE, "Cache-Control": cache_control}
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    try:
        if request.method != "HEAD":
            for chunk in chunks:
                await response.write(chunk.encode("ascii"))
        await response.write_eof()
    except ConnectionResetError:
        logger.debug("client left during %s", request.path)
    return response


async def master_playlist(request: web.Request) -> web.Response:
    """One variant per quality that has content overlapping the requested range."""
    state = state_of(request)
    channel = path_arg(request, "channel")
    query = parse_query(request, RangeQuery)
    if query.start is not None and query.end is not None:
        check_range(query.start, query.end, state.config.max_range, MAX_RANGE_SETTING)
    raw_query = request.rel_url.raw_query_string
    suffix = f"?{raw_query}" if raw_query else ""
    variants = await asyncio.to_thread(master_variants, state, channel, query.start, query.end, suffix)
    body = render_master_playlist(variants)
    return web.Response(
        text=body, headers={"Content-Type": PLAYLIST_CONTENT_TYPE, "Cache-Control": "no-cache"}
    )


def master_variants(
    state: RestreamerState, channel: str, start: datetime | None, end: datetime | None, suffix: str
) -> list[Variant]:
    """Variants in quality-name order; NotFound if the channel does not exist (blocking: run in a thread)."""
    base = state.config.base_dir
    if not (base / channel).is_dir():
        raise NotFound(f"no such channel: {channel[:64]}")
    variants = []
    for quality in list_qualities(base, channel):
        if quality in NON_VIDEO_QUALITIES:
            continue
        span = quality_hours(base, channel, quality)
        if (
            span is None
            or (start is not None and span.end <= start)
            or (end is not None and end <= span.first)
        ):
            continue
        bandwidth = estimate_bandwidth(state.index, channel, quality, span, start)
        uri = f"{quote(channel, safe='')}/{quote(quality, safe='')}.m3u8{suffix}"
        variants.append(Variant(name=quality, bandwidth=bandwidth, uri=uri))
    return variants


def estimate_bandwidth(
    index: SegmentIndex, channel: str, quality: str, span: HourSpan, start: datetime | None
) -> int:
    """Peak bits/s over up to BANDWIDTH_SAMPLE real segments near `start` (else the newest hour).

    Looks back up to three hours for an hour with segments; DEFAULT_BANDWIDTH if none are found.
    """
    hour = span.last
    if start is not None and span.first <= start < span.end:
        hour = start.replace(minute=0, second=0, microsecond=0)
    for _ in range(3):
        sample = list(index.hour_index(channel, quality, hour).candidates)[-BANDWIDTH_SAMPLE:]
        if sample:
            return peak_bitrate(sample, [file_size(seg) for seg in sample])
        hour -= ONE_HOUR
    return DEFAULT_BANDWIDTH


def file_size(segment: Segment) -> int:
    try:
        return os.stat(segment.path).st_size
    except OSError:
        return 0


def peak_bitrate(segments: Sequence[Segment], sizes: Sequence[int]) -> int:
    """The highest per-segment bit rate (RFC 8216 BANDWIDTH is a peak)."""
    rates = [
        size * 8 / seg.duration.total_seconds()
        for seg, size in zip(segments, sizes, strict=True)
        if seg.duration > timedelta(0)
    ]
    return max(1, round(max(rates, default=DEFAULT_BANDWIDTH)))


def add_routes(app: web.Application) -> None:
    """Add the master and media playlist routes."""
    add_documented_route(
        app,
        "/playlist/{channel}.m3u8",
        master_playlist,
        RouteDoc(
            summary="HLS master playlist: one variant per quality, URLs relative and keeping the query",
            content_type=PLAYLIST_CONTENT_TYPE,
            query=RangeQuery,
        ),
    )
    add_documented_route(
        app,
        "/playlist/{channel}/{quality}.m3u8",
        media_playlist,
        RouteDoc(
            summary="HLS media playlist for [start, end); open-ended (no end) playlists only ever grow",
            content_type=PLAYLIST_CONTENT_TYPE,
            query=RangeQuery,
        ),
    )
