"""`/playlist/{channel}.m3u8` (master) and `/playlist/{channel}/{quality}.m3u8` (media) for any time range."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from wubloader.hls.playlist import (
    AUDIO_QUALITY_SUFFIX,
    Variant,
    audio_quality,
    plan_media_playlist,
    render_master_playlist,
    render_media_playlist,
)
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
from wubloader.restreamer.streaming import stream_body
from wubloader.store.listing import list_qualities

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Sequence

    from wubloader.store.naming import Segment


PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
NON_VIDEO_QUALITIES = frozenset({"chat"})
BANDWIDTH_SAMPLE = 30
DEFAULT_BANDWIDTH = 6_846_146


async def media_playlist(request: web.Request) -> web.StreamResponse:
    """The media playlist for [start, end); streamed in ~100 KB chunks once everything is validated.

    At most `max_playlist_jobs` are selected and planned at once; more wait their turn.
    """
    state = state_of(request)
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    query = parse_query(request, RangeQuery)
    config = state.config
    state.resolver.directory(channel, quality)
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
        chain = await state.index.best_pieces_async(channel, quality, window.start, window.end)
        await asyncio.to_thread(state.resolver.confine, chain, files=False)
        plan = plan_media_playlist(
            chain, end=window.end, now=state.now(), live=window.live, live_edge=config.live_edge
        )
    # Rendered chunk by chunk as the client reads, outside the slot: a slow reader holds no slot, and
    # the body (7.7 MB for 24 h) is never held whole. Each chunk's write awaits the socket's drain,
    # so other requests get the loop between chunks.
    chunks = render_media_playlist(plan, state.entries, config.playlist_chunk_bytes)
    return await stream_text(request, chunks, cache_control="no-cache")


async def stream_text(
    request: web.Request, chunks: Iterable[str], *, cache_control: str
) -> web.StreamResponse:
    """Send ASCII text chunks as a chunked response (validation is finished before this is called)."""
    headers = {"Content-Type": PLAYLIST_CONTENT_TYPE, "Cache-Control": cache_control}
    return await stream_body(request, web.StreamResponse(headers=headers), _encoded(chunks))


async def _encoded(chunks: Iterable[str]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("ascii")


async def master_playlist(request: web.Request) -> web.Response:
    """One variant per quality that has content overlapping the requested range, with its frame rate."""
    state = state_of(request)
    channel = path_arg(request, "channel")
    query = parse_query(request, RangeQuery)
    if query.start is not None and query.end is not None:
        check_range(query.start, query.end, state.config.max_range, MAX_RANGE_SETTING)
    raw_query = request.rel_url.raw_query_string
    suffix = f"?{raw_query}" if raw_query else ""
    candidates = await asyncio.to_thread(master_variants, state, channel, query.start, query.end, suffix)
    variants = [
        dataclasses.replace(c.variant, frame_rate=await state.frame_rates.frame_rate(c.sample.path))
        if c.sample is not None
        else c.variant
        for c in candidates
    ]
    body = render_master_playlist(variants)
    return web.Response(
        text=body, headers={"Content-Type": PLAYLIST_CONTENT_TYPE, "Cache-Control": "no-cache"}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantCandidate:
    """A variant before its frame rate is known; `sample` is a segment to probe for it (None: no video)."""

    variant: Variant
    sample: Segment | None


def master_variants(
    state: RestreamerState, channel: str, start: datetime | None, end: datetime | None, suffix: str
) -> list[VariantCandidate]:
    """Variants in quality-name order; NotFound if the channel does not exist (blocking: run in a thread)."""
    base = state.config.base_dir
    state.resolver.directory(channel)
    if not (base / channel).is_dir():
        raise NotFound(f"no such channel: {channel[:64]}")
    candidates = []
    qualities = list_qualities(base, channel)
    for quality in qualities:
        if quality in NON_VIDEO_QUALITIES or audio_of(quality, qualities) is not None:
            continue
        span = quality_hours(base, channel, quality)
        if (
            span is None
            or (start is not None and span.end <= start)
            or (end is not None and end <= span.first)
        ):
            continue
        sample = sample_segments(state, channel, quality, span, start)
        bandwidth = peak_bitrate(sample, [file_size(seg) for seg in sample]) if sample else DEFAULT_BANDWIDTH
        uri = f"{quote(channel, safe='')}/{quote(quality, safe='')}.m3u8{suffix}"
        audio = audio_quality(quality)
        audio_uri = (
            f"{quote(channel, safe='')}/{quote(audio, safe='')}.m3u8{suffix}" if audio in qualities else None
        )
        variant = Variant(name=quality, bandwidth=bandwidth, uri=uri, audio_uri=audio_uri)
        # Probed by ffprobe, which would follow a symlinked file out of the store: never probe one.
        probe = sample[-1] if sample and not Path(sample[-1].path).is_symlink() else None
        candidates.append(VariantCandidate(variant=variant, sample=probe))
    return candidates


def audio_of(quality: str, qualities: list[str]) -> str | None:
    """The quality whose separate sound `quality` is (`source-audio` → `source`), if that one exists."""
    base = quality.removesuffix(AUDIO_QUALITY_SUFFIX)
    return base if base != quality and base in qualities else None


def sample_segments(
    state: RestreamerState, channel: str, quality: str, span: HourSpan, start: datetime | None
) -> list[Segment]:
    """Up to BANDWIDTH_SAMPLE real segments near `start` (else in the newest hour), for rate estimates.

    Looks back up to three hours for an hour with segments; empty if none are found.
    """
    hour = span.last
    if start is not None and span.first <= start < span.end:
        hour = start.replace(minute=0, second=0, microsecond=0)
    for _ in range(3):
        sample = list(state.index.hour_index(channel, quality, hour).candidates[-BANDWIDTH_SAMPLE:])
        state.resolver.confine(sample, files=False)
        if sample:
            return sample
        hour -= ONE_HOUR
    return []


def file_size(segment: Segment) -> int:
    try:
        return os.lstat(segment.path).st_size  # a symlink's own size: never look outside the store
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
