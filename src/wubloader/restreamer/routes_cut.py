"""`/cut/{channel}/{quality}.ts`: a cut of one or more ranges, validated fully, then streamed from media/."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.hls.playlist import audio_quality
from wubloader.media.cut_engine import MPEGTS_ARGS, WEBM_ARGS, CutOptions, plan_rough, prepare_cut
from wubloader.media.cut_plan import CutRange, CutType, Transition
from wubloader.media.errors import BadCut, UnsupportedMedia
from wubloader.restreamer.errors import BadRequest, NoContent, NotFound
from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.ranges import hours_text, quality_hours_async
from wubloader.restreamer.rough_send import send_rough_cut
from wubloader.restreamer.schemas import BINARY_SCHEMA, param, parse_request_time, path_arg
from wubloader.restreamer.state import state_of
from wubloader.restreamer.streaming import stream_body

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence
    from pathlib import Path

    from multidict import MultiMapping

    from wubloader.store.naming import Segment
    from wubloader.store.selection import Chain

TS = "video/mp2t"
WEBM = "video/webm"
SINGLE = ("type", "allow_holes", "start", "end")
MAX_CUT_SETTING = "--max-cut"


@dataclass(frozen=True, slots=True, kw_only=True)
class CutQuery:
    """Documentation of the query (parsed by `parse_cut_query`, since `range`/`transition` repeat)."""

    range: str | None = param(description="`START,END` (UTC ISO-8601), repeatable, in output order")
    transition: str | None = param(
        description="`NAME,SECONDS` or empty (hard cut) between ranges N and N+1, repeatable"
    )
    type: str = param(default="fast", description="rough | fast | smart | full | mpegts | webm")
    allow_holes: str = param(default="false", description="true | false")
    start: str | None = param(description="legacy single range start (when no `range`)")
    end: str | None = param(description="legacy single range end (when no `range`)")


@dataclass(frozen=True, slots=True, kw_only=True)
class CutQueryValues:
    """The parsed query: ranges may miss bounds only in the legacy start/end form."""

    bounds: list[tuple[str | None, str | None]]
    transitions: list[Transition | None]
    cut_type: CutType
    options: CutOptions
    content_type: str
    allow_holes: bool


def _cut_kind(text: str) -> tuple[CutType, CutOptions, str]:
    if text == "mp4":
        raise BadRequest("mp4 type has been disabled due to the load it causes")
    if text in ("mpegts", "full"):
        return CutType.FULL, CutOptions(full_encode_args=MPEGTS_ARGS, full_format="mpegts"), TS
    if text == "webm":
        return CutType.FULL, CutOptions(full_encode_args=WEBM_ARGS, full_format="webm"), WEBM
    try:
        return CutType(text), CutOptions(), TS
    except ValueError:
        raise BadRequest(f"Unknown type {text[:32]!r}") from None


def _transition(text: str) -> Transition | None:
    if not text:
        return None
    name, sep, seconds = text.partition(",")
    try:
        duration = float(seconds)
    except ValueError:
        raise BadRequest("transition must be NAME,SECONDS or empty") from None
    if not sep or not name:
        raise BadRequest("transition must be NAME,SECONDS or empty")
    return Transition(name=name, duration=duration)


def parse_cut_query(query: MultiMapping[str], max_ranges: int) -> CutQueryValues:
    """Parse the cut query; BadRequest (400) on anything malformed or more than `max_ranges` ranges."""
    for key in SINGLE:
        if len(query.getall(key, [])) > 1:
            raise BadRequest(f"parameter {key!r} given more than once")
    bounds: list[tuple[str | None, str | None]] = []
    texts = query.getall("range", [])
    if len(texts) > max_ranges:
        raise BadRequest(f"a cut may have at most {max_ranges} ranges")
    for text in texts:
        start, sep, end = text.partition(",")
        if not sep or not start or not end:
            raise BadRequest("range must be START,END")
        bounds.append((start, end))
    if not bounds:
        bounds = [(query.get("start"), query.get("end"))]
    transitions = [_transition(t) for t in query.getall("transition", [])]
    if len(transitions) >= len(bounds):
        raise BadRequest("Too many transitions")
    transitions += [None] * (len(bounds) - 1 - len(transitions))
    allow = query.get("allow_holes", "false").lower()
    if allow not in ("true", "false"):
        raise BadRequest("allow_holes must be one of: true, false")
    cut_type, options, content_type = _cut_kind(query.get("type", "fast"))
    return CutQueryValues(
        bounds=bounds,
        transitions=transitions,
        cut_type=cut_type,
        options=options,
        content_type=content_type,
        allow_holes=allow == "true",
    )


async def _ranges(
    request: web.Request, channel: str, quality: str, bounds: Sequence[tuple[str | None, str | None]]
) -> list[CutRange]:
    """The cut's ranges, their total checked against the limit before anything is selected.

    Explicit ranges are checked before the quality's hours are even listed.
    """
    limit = state_of(request).config.max_cut_range
    parsed = [(_utc(start), _utc(end)) for start, end in bounds]
    explicit = [CutRange(start=s, end=e) for s, e in parsed if s is not None and e is not None]
    if len(explicit) == len(parsed):
        _check_total(explicit, limit)
    span = await quality_hours_async(state_of(request).config.base_dir, channel, quality)
    ranges = []
    for start, end in parsed:
        if (start is None or end is None) and span is None:
            raise NotFound("no segments for this channel/quality")
        first = start if start is not None else span.first  # type: ignore[union-attr]
        last = end if end is not None else span.end  # type: ignore[union-attr]
        ranges.append(CutRange(start=first, end=last))
    _check_total(ranges, limit)
    return ranges


def _utc(text: str | None) -> datetime | None:
    return parse_request_time(text) if text is not None else None


def _check_total(ranges: Sequence[CutRange], limit: timedelta) -> None:
    if any(r.end <= r.start for r in ranges):
        raise BadRequest("Ends must be after starts")
    if sum((r.end - r.start for r in ranges), timedelta()) > limit:
        raise BadRequest(f"a cut may not be longer than {hours_text(limit)} in total ({MAX_CUT_SETTING})")


async def cut(request: web.Request) -> web.StreamResponse:
    """Validate everything (400/404/406), then stream the cut; a failure mid-way aborts the body.

    The cut holds a media slot while it runs (503 + Retry-After when none can be had).
    """
    state = state_of(request)
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    values = parse_cut_query(request.query, state.config.max_cut_ranges)
    state.resolver.directory(channel, quality)
    ranges = await _ranges(request, channel, quality, values.bounds)
    chains = [await state.index.best_segments_async(channel, quality, r.start, r.end) for r in ranges]
    for chain in chains:
        await asyncio.to_thread(state.resolver.confine, chain, files=True)
    audio_chains = None
    audio = audio_quality(quality)
    if values.cut_type is CutType.FULL and await _has_quality(state.config.base_dir, channel, audio):
        # The sound of this quality was archived separately (a variant with an AUDIO rendition).
        audio_chains = [await state.index.best_segments_async(channel, audio, r.start, r.end) for r in ranges]
        for chain in audio_chains:
            await asyncio.to_thread(state.resolver.confine, chain, files=True)
    async with state.media_slot():  # from the first probe to the last byte: every ffmpeg run
        extension = "webm" if values.content_type == WEBM else "ts"
        filename = f"{channel}-{quality}-{ranges[0].start:%Y-%m-%dT%H-%M-%S}.{extension}"
        response = web.StreamResponse(
            headers={
                "Content-Type": values.content_type,
                "Content-Disposition": f'attachment; filename="{filename}"',
            }
        )
        if values.cut_type is CutType.ROUGH:  # whole files: zero-copy, no stream through Python
            segments = _rough_segments(ranges, chains, allow_holes=values.allow_holes)
            return await send_rough_cut(request, response, segments, state.pace)
        stream = await _prepare(values, ranges, chains, audio_chains)
        try:
            return await stream_body(request, response, state.pace.paced(stream))
        finally:
            await stream.aclose()


async def _prepare(
    values: CutQueryValues, ranges: list[CutRange], chains: list[Chain], audio_chains: list[Chain] | None
) -> AsyncGenerator[bytes | bytearray, None]:
    """`prepare_cut`, its refusals mapped to 400 (bad cut) and 406 (media it cannot cut)."""
    try:
        return await prepare_cut(
            values.cut_type,
            ranges,
            values.transitions,
            chains,
            allow_holes=values.allow_holes,
            options=values.options,
            audio_chains=audio_chains,
        )
    except BadCut as exc:
        raise BadRequest(str(exc)) from exc
    except UnsupportedMedia as exc:
        raise NoContent(f"cannot cut this media with type={values.cut_type}: {exc}") from exc


def _rough_segments(ranges: list[CutRange], chains: list[Chain], *, allow_holes: bool) -> list[Segment]:
    """`plan_rough`, a bad cut mapped to 400 (as `_prepare` does for the other cut types)."""
    try:
        return plan_rough(ranges, chains, allow_holes=allow_holes)
    except BadCut as exc:
        raise BadRequest(str(exc)) from exc


async def _has_quality(base: Path, channel: str, quality: str) -> bool:
    try:
        return await quality_hours_async(base, channel, quality) is not None
    except NotFound:
        return False


def add_routes(app: web.Application) -> None:
    """Add the cut route."""
    add_documented_route(
        app,
        "/cut/{channel}/{quality}.ts",
        cut,
        RouteDoc(
            summary="A cut of one or more ranges (rough, fast, smart, full/mpegts, webm), streamed",
            content_type=TS,
            response_schema=BINARY_SCHEMA,
            query=CutQuery,
            errors=(400, 403, 404, 406),
        ),
    )
