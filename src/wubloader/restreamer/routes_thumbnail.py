"""`/thumbnail/{channel}/{quality}.png`: the editor's thumbnail preview (a frame, maybe in a template)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.restreamer.errors import BadRequest, NoContent, NotFound
from wubloader.restreamer.openapi import RouteDoc, add_documented_route
from wubloader.restreamer.ranges import quality_hours_async
from wubloader.restreamer.schemas import BINARY_SCHEMA, param, parse_query, path_arg
from wubloader.restreamer.state import state_of
from wubloader.thumbnails.boxes import parse_box
from wubloader.thumbnails.errors import BadBox, BadImage, NoFrameAt, UnknownTemplate
from wubloader.thumbnails.frames import frame_at

if TYPE_CHECKING:
    from datetime import datetime

    from wubloader.db.database import Database
    from wubloader.thumbnails.boxes import Template

PNG = "image/png"
# The node's events database, when it has one (templates live there); absent: bare frames only.
TEMPLATE_DB: web.AppKey[Database] = web.AppKey("thumbnail_template_db")


@dataclass(frozen=True, slots=True, kw_only=True)
class ThumbnailQuery:
    timestamp: datetime = param(timestamp=True, required=True)
    template: str | None = param(description="template name (needs a node with a database)")
    crop: str | None = param(description="`L,T,R,B` box of the frame (default: the template's)")
    location: str | None = param(description="`L,T,R,B` box in the template (default: the template's)")


async def thumbnail(request: web.Request) -> web.Response:
    """The frame at `timestamp`, composed into `template` when given (as the cutter would upload it)."""
    state = state_of(request)
    channel = path_arg(request, "channel")
    quality = path_arg(request, "quality")
    query = parse_query(request, ThumbnailQuery)
    try:
        crop = parse_box(query.crop) if query.crop else None
        location = parse_box(query.location) if query.location else None
    except BadBox as exc:
        raise BadRequest(str(exc)) from exc
    if query.template is None and (crop or location):
        raise BadRequest("crop and location need a template")
    template = await _template(request, query.template) if query.template is not None else None
    await quality_hours_async(state.config.base_dir, channel, quality)
    async with state.media_slot():
        try:
            frame = await frame_at(state.index, channel, quality, query.timestamp,
                                   time_limit=state.config.media_time_limit)  # fmt: skip
        except NoFrameAt:
            raise NoContent("no content at the requested time") from None
    if template is None:
        return web.Response(body=frame, content_type=PNG)
    # Pillow loads only when a template is composed: a restreamer serving segments stays lean.
    from wubloader.thumbnails.compose import compose

    try:
        image = await asyncio.to_thread(compose, frame, template, crop, location)
    except (BadBox, BadImage) as exc:
        raise BadRequest(str(exc)) from exc
    return web.Response(body=image, content_type=PNG)


async def _template(request: web.Request, name: str) -> Template:
    database = request.app.get(TEMPLATE_DB)
    if database is None:
        raise NotFound("this node has no template database")
    from wubloader.thumbnails.templates import load_template  # SQLAlchemy: loaded with the database

    try:
        return await load_template(database, name)
    except UnknownTemplate as exc:
        raise NotFound(str(exc)) from exc
    except BadBox as exc:
        raise BadRequest(f"template {name[:64]!r} is broken: {exc}") from exc


def add_routes(app: web.Application) -> None:
    """Add the thumbnail preview route."""
    add_documented_route(
        app,
        "/thumbnail/{channel}/{quality}.png",
        thumbnail,
        RouteDoc(
            summary="Thumbnail preview: the frame at `timestamp`, in `template` with crop/location boxes",
            content_type=PNG,
            response_schema=BINARY_SCHEMA,
            query=ThumbnailQuery,
            errors=(400, 403, 404, 406),
        ),
    )
