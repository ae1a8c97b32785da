"""Thumbnail template routes: list, PNG, metadata, add and update (the latter two need the artist role)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from aiohttp import web

from wubloader.db import templates
from wubloader.db.roles import Role
from wubloader.db.templates import Template
from wubloader.thrimshim.edit_rules import PNG_SIGNATURE
from wubloader.thrimshim.errors import BadRequest, NotFound
from wubloader.thrimshim.openapi import RouteDoc, add_route
from wubloader.thrimshim.schemas import TemplateBody
from wubloader.thrimshim.state import path_arg, read_object, state_of

if TYPE_CHECKING:
    import sqlalchemy as sa

_REQUIRED = ("name", "image", "description", "attribution", "crop", "location")


def _metadata(template: Template) -> dict[str, Any]:
    return {
        "name": template.name,
        "description": template.description,
        "attribution": template.attribution,
        "crop": list(template.crop),
        "location": list(template.location),
    }


def _png(text: str) -> bytes:
    try:
        image = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("Template image must be valid base64") from None
    if not image.startswith(PNG_SIGNATURE):
        raise BadRequest("Template image must be a PNG")
    return image


async def _template_body(request: web.Request, *, image_required: bool) -> tuple[TemplateBody, bytes | None]:
    raw = await read_object(request)
    await state_of(request).auth.require(request, raw, Role.ARTIST)
    missing = [key for key in _REQUIRED if key not in raw and (image_required or key != "image")]
    if missing:
        raise BadRequest(f"Fields missing in JSON: {', '.join(missing)}")
    body = TemplateBody.model_validate(raw)
    return body, None if body.image is None else _png(body.image)


def _template(body: TemplateBody, image: bytes | None) -> Template:
    return Template(
        name=body.name,
        description=body.description,
        attribution=body.attribution,
        crop=body.crop,
        location=body.location,
        image=image,
    )


async def list_templates(request: web.Request) -> web.Response:
    rows = await state_of(request).database.run(templates.list_templates)
    return web.json_response([_metadata(t) for t in rows])


async def template_png(request: web.Request) -> web.Response:
    name = path_arg(request, "name")
    template = await state_of(request).database.run(templates.get_template, name, with_image=True)
    if template is None or template.image is None:
        raise NotFound(f"Template {name} not found")
    return web.Response(body=template.image, content_type="image/png")


async def template_metadata(request: web.Request) -> web.Response:
    name = path_arg(request, "name")
    template = await state_of(request).database.run(templates.get_template, name)
    if template is None:
        raise NotFound(f"Template {name} not found")
    return web.json_response(_metadata(template))


async def add_template(request: web.Request) -> web.Response:
    body, image = await _template_body(request, image_required=True)
    if image is None:
        raise BadRequest("Fields missing in JSON: image")
    if not await state_of(request).database.run(templates.add_template, _template(body, image)):
        raise BadRequest(f"Template with name {body.name} already exists")
    return web.Response(status=201)


def _update(connection: sa.Connection, old_name: str, template: Template) -> None:
    if templates.get_template(connection, old_name) is None:
        raise BadRequest(f"Template with name {old_name} does not exist")
    if template.name != old_name and templates.get_template(connection, template.name) is not None:
        raise BadRequest(f"Template with name {template.name} already exists")
    templates.update_template(connection, old_name, template)


async def update_template(request: web.Request) -> web.Response:
    old_name = path_arg(request, "name")
    body, image = await _template_body(request, image_required=False)
    await state_of(request).database.run(_update, old_name, _template(body, image))
    return web.Response(status=200)


def add_routes(app: web.Application) -> None:
    add_route(
        app,
        "GET",
        "/thrimshim/templates",
        list_templates,
        RouteDoc(summary="Thumbnail templates (metadata)", response_schema={"type": "array"}, errors=()),
    )
    add_route(
        app,
        "GET",
        "/thrimshim/template/{name}.png",
        template_png,
        RouteDoc(summary="A template's PNG", content_type="image/png"),
    )
    add_route(
        app,
        "GET",
        "/thrimshim/template-metadata/{name}",
        template_metadata,
        RouteDoc(summary="A template's metadata", response_schema={"type": "object"}),
    )
    add_route(
        app,
        "POST",
        "/thrimshim/add-template",
        add_template,
        RouteDoc(
            summary="Add a template (artist)",
            status=201,
            content_type="",
            body=TemplateBody,
            errors=(400,),
            secured=True,
        ),
    )
    add_route(
        app,
        "POST",
        "/thrimshim/update-template/{name}",
        update_template,
        RouteDoc(
            summary="Update or rename a template (artist)",
            content_type="",
            body=TemplateBody,
            errors=(400,),
            secured=True,
        ),
    )
