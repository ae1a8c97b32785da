"""Documented routes: each routes module adds its handlers with a RouteDoc; `/openapi.json` serves them.

Only routes added through `add_route` are documented, so the document cannot drift from the router.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler
    from pydantic import BaseModel

_PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "invalid request (one-line plain-text reason)",
    401: "missing or invalid credentials",
    403: "not allowed",
    404: "not found",
    409: "conflict",
    413: "body too large",
    503: "dependency unavailable",
}
PATH_ID = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\x00/]+$"}


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteDoc:
    """How one route is documented: body/query models, the success body, the statuses it may answer."""

    summary: str
    status: int = 200
    content_type: str = "application/json"
    response_schema: dict[str, Any] = field(default_factory=dict)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = (400, 404)
    secured: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class _Documented:
    method: str
    path: str
    doc: RouteDoc


DOCUMENTED = web.AppKey("thrimshim_documented_routes", list[_Documented])


def add_route(app: web.Application, method: str, path: str, handler: Handler, doc: RouteDoc) -> None:
    """Add `method path` (GET also answers HEAD) and record its documentation."""
    app.router.add_route(method, path, handler)
    app.setdefault(DOCUMENTED, []).append(_Documented(method=method.lower(), path=path, doc=doc))


def _parameters(route: _Documented) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_ID}
        for name in _PATH_PARAM.findall(route.path)
    ]
    if route.doc.query is not None:
        schema = route.doc.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k not in ("title", "description", "default")}
            params.append(
                {"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": prop}
            )
    return params


def _operation(route: _Documented, definitions: dict[str, Any]) -> dict[str, Any]:
    doc = route.doc
    success: dict[str, Any] = {"description": STATUS_TEXT.get(doc.status, "OK")}
    if doc.content_type:
        success["content"] = {doc.content_type: {"schema": doc.response_schema}}
    responses = {str(doc.status): success}
    errors = doc.errors + ((401, 403) if doc.secured else ())
    for status in errors:
        responses[str(status)] = {
            "description": STATUS_TEXT.get(status, "error"),
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "operationId": route.method + "_" + (re.sub(r"[^A-Za-z0-9]+", "_", route.path).strip("_") or "root"),
        "parameters": _parameters(route),
        "responses": responses,
    }
    if doc.body is not None:
        schema = doc.body.model_json_schema(ref_template="#/components/schemas/{model}")
        definitions.update(schema.pop("$defs", {}))
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    if doc.secured:
        operation["security"] = [{"bearer": []}]
    return operation


def build_openapi(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route added through `add_route`."""
    paths: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for route in app.get(DOCUMENTED, []):
        paths.setdefault(route.path, {})[route.method] = _operation(route, definitions)
    return {
        "openapi": "3.1.0",
        "info": {"title": "wubloader thrimshim", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def add_routes(app: web.Application) -> None:
    """`GET /openapi.json`, built once on first use (after every route was added)."""
    cache: dict[str, bytes] = {}

    async def openapi_json(request: web.Request) -> web.Response:
        if "doc" not in cache:
            cache["doc"] = json.dumps(build_openapi(request.app)).encode()
        return web.Response(body=cache["doc"], content_type="application/json")

    add_route(app, "GET", "/openapi.json", openapi_json, RouteDoc(summary="This OpenAPI document", errors=()))
