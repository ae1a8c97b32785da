"""Thrimshim errors and the ONE table mapping every exception a handler raises to an HTTP status.

Handlers raise; `error_middleware` answers with a one-line `text/plain` reason. CORS `*` goes on
every response (the editor may be served from another origin).

Hierarchy::

    WubloaderError
    └── ThrimshimError                 status 400 unless a subclass says otherwise
        ├── BadRequest (400)           a body, parameter or path argument is invalid
        ├── Unauthenticated (401)      no credentials, or credentials that do not verify
        ├── Forbidden (403)            a valid identity without the role, or a state that forbids the edit
        ├── NotFound (404)             no such event or template
        ├── Conflict (409)             the row changed since the editor loaded it (or the id exists)
        └── Unavailable (503)          a dependency (the OIDC issuer) cannot be reached right now
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pydantic
from aiohttp import web

from wubloader.db.errors import ConstraintViolation, DatabaseUnavailable, SchemaOutdated
from wubloader.errors import WubloaderError
from wubloader.runtime.errors import BadTimestamp
from wubloader.runtime.http_errors import error_response, one_line

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

logger = logging.getLogger(__name__)

# Conflict reasons list fields and sheet changes: allow longer lines than the default.
MAX_REASON_LENGTH = 600


class ThrimshimError(WubloaderError):
    """A request thrimshim refuses; `str(exc)` is the one-line reason sent to the client."""


class BadRequest(ThrimshimError):
    """Invalid body, parameter or path argument (400)."""


class Unauthenticated(ThrimshimError):
    """No credentials, or they do not verify (401)."""


class Forbidden(ThrimshimError):
    """Authenticated but not allowed: no role, or the row's state forbids the change (403)."""


class NotFound(ThrimshimError):
    """No such event or template (404)."""


class Conflict(ThrimshimError):
    """The row changed under the editor, or the thing to create exists already (409)."""


class Unavailable(ThrimshimError):
    """A dependency such as the OIDC issuer's key server is unreachable (503); retry later."""


# The one table. The first matching class wins, so subclasses come first.
ERROR_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (BadRequest, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unavailable, 503),
    (ThrimshimError, 400),
    (BadTimestamp, 400),
    (pydantic.ValidationError, 400),
    (UnicodeError, 400),
    (ConstraintViolation, 409),
    (SchemaOutdated, 503),
    (DatabaseUnavailable, 503),
    (TimeoutError, 503),
)


def status_for(exc: BaseException) -> int | None:
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return None


def reason_for(exc: BaseException) -> str:
    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return one_line(f"bad {where}: {first['msg'].removeprefix('Value error, ')}", MAX_REASON_LENGTH)
    if isinstance(exc, UnicodeError):
        return "request is not valid UTF-8"
    if isinstance(exc, DatabaseUnavailable | TimeoutError):
        return "database unavailable, try again"
    return one_line(str(exc), MAX_REASON_LENGTH)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn raised errors into one-line plain-text responses (see ERROR_STATUS); 500 only for bugs."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(exc.status, one_line(exc.reason, MAX_REASON_LENGTH))
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except ConnectionResetError:
        raise
    except Exception as exc:
        status = status_for(exc)
        if status is None:
            logger.exception("unexpected error serving %s %s", request.method, request.path)
            return error_response(500, "internal error")
        if status >= 500:
            logger.error("error serving %s %s: %s", request.method, request.path, exc)
        return error_response(status, reason_for(exc))
