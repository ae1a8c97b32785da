"""Event routes: list, one row (GET/POST), create, reset, manual link, thumbnail, defaults, transitions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.db import events, playlists
from wubloader.db.errors import ConstraintViolation
from wubloader.db.event_records import SheetEvent
from wubloader.db.events import EventFilter
from wubloader.db.roles import Role
from wubloader.db.schema import EventState
from wubloader.media.transitions import TRANSITIONS
from wubloader.thrimshim.edits import EditRequest, apply_edit
from wubloader.thrimshim.errors import BadRequest, Conflict, Forbidden, NotFound
from wubloader.thrimshim.list_cache import etag_matches
from wubloader.thrimshim.openapi import RouteDoc, add_route
from wubloader.thrimshim.rows_json import decorated_event_json, defaults_json
from wubloader.thrimshim.schemas import (
    EDIT_REQUIRED_KEYS,
    EditBody,
    ListQuery,
    ManualLinkBody,
    NewEventBody,
    ResetQuery,
)
from wubloader.thrimshim.state import path_arg, query_model, read_object, state_of

if TYPE_CHECKING:
    import sqlalchemy as sa
    from aiohttp.typedefs import Handler

    from wubloader.db.event_records import Event
    from wubloader.db.playlists import Playlist

# youtu.be/ID or (www.|m.)youtube.com/watch?…v=ID…; fixed from the original, which refused www. and
# any other query parameter.
_YOUTUBE_LINK = re.compile(
    r"https?://(?:(?:www\.|m\.)?youtube\.com/watch\?(?:[^#\s]*&)?v=|youtu\.be/)([A-Za-z0-9_-]{11})(?:[&?#][^\s]*)?"
)
_HTTP_LINK = re.compile(r"https?://[^\s/]+(?:/[^\s]*)?")
OBJECT = {"type": "object"}
ARRAY = {"type": "array", "items": OBJECT}


async def list_rows(request: web.Request) -> web.Response:
    """The listing with a strong ETag; 304 when `If-None-Match` names it (the events page polls)."""
    query = query_model(request, ListQuery)
    state = state_of(request)
    filters = EventFilter(state=query.state, category=query.category, since=query.since)
    body, etag = await state.database.run(state.listing.listing, filters)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag_matches(etag, request.headers.get("If-None-Match")):
        return web.Response(status=304, headers=headers)
    return web.Response(text=body, content_type="application/json", headers=headers)


async def get_row(request: web.Request) -> web.Response:
    state, event_id = state_of(request), path_arg(request, "id")
    event, lists = await state.database.run(_row_and_playlists, event_id)
    if event is None:
        raise NotFound(f"Row id = {event_id} not found")
    return web.json_response(decorated_event_json(event, state.config, lists))


def _row_and_playlists(connection: sa.Connection, event_id: str) -> tuple[Event | None, list[Playlist]]:
    return events.get_event(connection, event_id), playlists.list_playlists(connection)


async def post_row(request: web.Request) -> web.Response:
    state, event_id = state_of(request), path_arg(request, "id")
    raw = await read_object(request)
    editor = await state.auth.require(request, raw, Role.EDITOR)
    missing = [key for key in EDIT_REQUIRED_KEYS if key not in raw]
    if missing:
        raise BadRequest(f"Fields missing in JSON: {', '.join(missing)}")
    body = EditBody.model_validate(raw)
    edit = EditRequest(body=body, editor=editor, now=state.now(), config=state.config)
    version = await state.database.run(apply_edit, event_id, edit)
    return web.json_response({"row_version": version}, status=201)


async def create_row(request: web.Request) -> web.Response:
    state = state_of(request)
    raw = await read_object(request)
    await state.auth.require(request, raw, Role.EDITOR)
    body = NewEventBody.model_validate(raw)
    sheet = SheetEvent(
        id=body.id,
        sheet_name=body.sheet_name,
        event_start=body.event_start,
        event_end=body.event_end,
        category=body.category,
        description=body.description,
        notes=body.notes,
        tags=tuple(body.tags),
    )
    try:
        await state.database.run(events.insert_event, sheet)
    except ConstraintViolation:
        raise Conflict(f"event {body.id} already exists") from None
    return web.json_response({"id": body.id}, status=201)


async def reset_row(request: web.Request) -> web.Response:
    state, event_id = state_of(request), path_arg(request, "id")
    query = query_model(request, ResetQuery)
    await state.auth.require(request, await read_object(request, optional=True), Role.EDITOR)
    if not await state.database.run(events.reset_event, event_id, force=query.force == "true"):
        raise NotFound(f"Row id = {event_id} not found or not in cancellable state")
    return web.Response(status=200)


async def manual_link(request: web.Request) -> web.Response:
    state, event_id = state_of(request), path_arg(request, "id")
    raw = await read_object(request)
    editor = await state.auth.require(request, raw, Role.EDITOR)
    body = ManualLinkBody.model_validate(raw)
    video_id = _manual_video_id(body)
    event = await state.database.run(events.get_event, event_id)
    if event is None:
        raise NotFound(f"Row id = {event_id} not found")
    if event.state is not EventState.UNEDITED:
        raise Forbidden(f"Invalid state {event.state} for manual video link")
    linked = await state.database.run(
        events.link_manually,
        event_id,
        upload_location=body.upload_location,
        video_link=body.link,
        video_id=video_id,
        editor=editor,
        now=state.now(),
    )
    if not linked:
        raise Conflict("Video changed state while we were updating - maybe it was reset?")
    return web.Response(status=200)


def _manual_video_id(body: ManualLinkBody) -> str | None:
    if body.upload_location == "youtube-manual":
        match = _YOUTUBE_LINK.fullmatch(body.link)
        if match is None:
            raise BadRequest(
                "link must be a YouTube video link: https://youtu.be/ID or "
                "https://www.youtube.com/watch?v=ID (ID: 11 characters)"
            )
        return match[1]
    if body.upload_location != "manual":
        raise BadRequest("upload_location must be 'manual' or 'youtube-manual'")
    if _HTTP_LINK.fullmatch(body.link) is None:
        raise BadRequest("link must be an http(s) URL")
    return None


async def event_thumbnail(request: web.Request) -> web.Response:
    image = await state_of(request).database.run(events.thumbnail_image, path_arg(request, "id"))
    if image is None:
        raise NotFound("no thumbnail for this event")
    return web.Response(body=image, content_type="image/png")


async def defaults(request: web.Request) -> web.Response:
    return web.json_response(defaults_json(state_of(request).config))


async def transitions(request: web.Request) -> web.Response:
    return web.json_response([{"name": t.name, "description": t.description} for t in TRANSITIONS.values()])


async def auth_test(request: web.Request) -> web.Response:
    email = await state_of(request).auth.require(
        request, await read_object(request, optional=True), Role.EDITOR
    )
    return web.json_response(email)


# Fixed paths first: `/thrimshim/{id}` would otherwise swallow them.
ROUTES: tuple[tuple[str, str, Handler, RouteDoc], ...] = (
    (
        "GET",
        "/thrimshim",
        list_rows,
        RouteDoc(
            summary="List events (no thumbnail bytes)", query=ListQuery, response_schema=ARRAY, errors=(400,)
        ),
    ),
    (
        "GET",
        "/thrimshim/defaults",
        defaults,
        RouteDoc(summary="Editor defaults", response_schema=OBJECT, errors=()),
    ),
    (
        "GET",
        "/thrimshim/transitions",
        transitions,
        RouteDoc(summary="Transitions the cutter supports", response_schema=ARRAY, errors=()),
    ),
    (
        "POST",
        "/thrimshim/auth-test",
        auth_test,
        RouteDoc(summary="Who am I (editor role)", errors=(400,), secured=True),
    ),
    (
        "POST",
        "/thrimshim/events",
        create_row,
        RouteDoc(summary="Create an event", status=201, body=NewEventBody, errors=(400, 409), secured=True),
    ),
    (
        "POST",
        "/thrimshim/reset/{id}",
        reset_row,
        RouteDoc(summary="Cancel (or force-reset) an event", query=ResetQuery, content_type="", secured=True),
    ),
    (
        "POST",
        "/thrimshim/manual-link/{id}",
        manual_link,
        RouteDoc(
            summary="Record a manually uploaded video",
            body=ManualLinkBody,
            content_type="",
            errors=(400, 404, 409),
            secured=True,
        ),
    ),
    (
        "GET",
        "/thrimshim/event-thumbnail/{id}.png",
        event_thumbnail,
        RouteDoc(summary="An event's stored thumbnail", content_type="image/png"),
    ),
    (
        "GET",
        "/thrimshim/{id}",
        get_row,
        RouteDoc(summary="One event, decorated for the editor", response_schema=OBJECT),
    ),
    (
        "POST",
        "/thrimshim/{id}",
        post_row,
        RouteDoc(
            summary="Save, submit or modify an edit",
            status=201,
            body=EditBody,
            errors=(400, 404, 409, 413),
            secured=True,
        ),
    ),
)


def add_routes(app: web.Application) -> None:
    for method, path, handler, doc in ROUTES:
        add_route(app, method, path, handler, doc)
