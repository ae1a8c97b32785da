"""Documented routes: each routes module registers its handlers with a RouteDoc; `/openapi.json` serves them.

The OpenAPI 3.1 document is assembled by hand from the query dataclasses' parameters, so every
route added through `add_documented_route` is documented and nothing else is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from wubloader.restreamer.schemas import query_params

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohttp.typedefs import Handler

OPENAPI_VERSION = "3.1.0"
_PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ERROR_STATUSES = {
    400: "bad parameter (one-line plain-text reason)",
    403: "a path argument is hidden or unsafe",
    404: "no such channel, quality or segment",
    406: "no content in the requested range",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteDoc:
    """How one GET route is documented.

    `query`: the query dataclass (`schemas.parse_query`); its fields become parameters.
    `content_type`/`response_schema`: the 200 body. `errors`: statuses the route may answer.
    `path_params`: JSON schema per path parameter (default: a non-empty string).
    """

    summary: str
    content_type: str
    response_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    query: type | None = None
    errors: tuple[int, ...] = (400, 403, 404)
    path_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra_statuses: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentedRoute:
    path: str
    doc: RouteDoc


DOCUMENTED = web.AppKey("restreamer_documented_routes", list[DocumentedRoute])


def add_documented_route(app: web.Application, path: str, handler: Handler, doc: RouteDoc) -> None:
    """Add `GET path` (and HEAD) to `app` and record its documentation for `/openapi.json`."""
    app.router.add_get(path, handler)
    document_route(app, path, doc)


def document_route(app: web.Application, path: str, doc: RouteDoc) -> None:
    """Record the documentation of a GET route added by other means (e.g. runtime's `/metrics`)."""
    app.setdefault(DOCUMENTED, []).append(DocumentedRoute(path=path, doc=doc))


def _parameters(route: DocumentedRoute) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in _PATH_PARAM.findall(route.path):
        schema = dict(route.doc.path_params.get(name, {"type": "string", "minLength": 1}))
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if route.doc.query is not None:
        for name, spec in query_params(route.doc.query):
            param = {"name": name, "in": "query", "required": spec.required, "schema": spec.schema()}
            if spec.description:
                param["description"] = spec.description
            params.append(param)
    return params


def _operation(route: DocumentedRoute) -> dict[str, Any]:
    doc = route.doc
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {doc.content_type: {"schema": dict(doc.response_schema)}}}
    }
    for status in doc.errors:
        responses[str(status)] = {
            "description": ERROR_STATUSES.get(status, "error"),
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    for status, description in doc.extra_statuses.items():
        responses[str(status)] = {"description": description}
    operation_id = re.sub(r"[^A-Za-z0-9]+", "_", route.path).strip("_") or "root"
    return {
        "summary": doc.summary,
        "operationId": operation_id,
        "parameters": _parameters(route),
        "responses": responses,
    }


def build_openapi(app: web.Application, *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI document of every route registered on `app` through `add_documented_route`."""
    paths: dict[str, Any] = {}
    for route in app.get(DOCUMENTED, []):
        paths.setdefault(route.path, {})["get"] = _operation(route)
    return {"openapi": OPENAPI_VERSION, "info": {"title": title, "version": version}, "paths": paths}


def add_routes(app: web.Application) -> None:
    """Add `GET /openapi.json`; the document is built on first use, after all routes were added."""
    cache: dict[str, bytes] = {}

    async def openapi_json(request: web.Request) -> web.Response:
        body = cache.get("doc")
        if body is None:
            body = json.dumps(build_openapi(request.app, title="wubloader restreamer", version="1")).encode()
            cache["doc"] = body
        return web.Response(body=body, content_type="application/json")

    app.router.add_get("/openapi.json", openapi_json)
    document_route(
        app,
        "/openapi.json",
        RouteDoc(
            summary="This OpenAPI document", content_type="application/json", response_schema={}, errors=()
        ),
    )
