"""Restreamer errors and the ONE table mapping every exception a handler raises to an HTTP status.

Handlers raise; the `error_middleware` turns the exception into a one-line `text/plain` response.
`cors_headers` (an `on_response_prepare` hook) puts CORS `*` on every response, errors included.

Hierarchy::

    WubloaderError
    └── RestreamerError                  status 400 unless a subclass says otherwise
        ├── BadRequest (400)             a query parameter or path argument is malformed
        ├── Forbidden (403)              a path argument could reveal or escape the store
        ├── NotFound (404)               no such channel/quality/segment (or it is tombstoned)
        ├── NoContent (406)              the range exists but holds nothing usable (or media ffmpeg
        │                                cannot decode: MediaError is 406 too)
        ├── RangeNotSatisfiable (416)    a byte range starts past the end of a segment
        └── Busy (503)                   no capacity now (media slots, descriptors); Retry-After
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.errors import WubloaderError
from wubloader.media.errors import FfmpegTimeout, MediaError
from wubloader.media.frame import NoFrame
from wubloader.runtime.errors import BadTimestamp
from wubloader.runtime.http_errors import (
    cors_headers,
    error_response,
    one_line,
    quiet_malformed_request_logs,
)
from wubloader.runtime.metrics import CLIENT_CLOSED
from wubloader.store.errors import BadSegmentName, ContainsHoles, NoSegments, UnsafePath

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohttp.typedefs import Handler

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

# Re-exported: the restreamer's app module installs these from here.
__all__ = ["cors_headers", "error_middleware", "quiet_malformed_request_logs"]


class RestreamerError(WubloaderError):
    """A request the restreamer refuses; `str(exc)` is the one-line reason sent to the client.

    `headers` are added to the error response (e.g. `Content-Range` on a 416).
    """

    def __init__(self, reason: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.headers: Mapping[str, str] = headers or {}


class BadRequest(RestreamerError):
    """A query parameter or path argument is malformed (400)."""


class Forbidden(RestreamerError):
    """A path argument is hidden or could escape the store (403)."""


class NotFound(RestreamerError):
    """The channel, quality or segment does not exist, or is tombstoned (404)."""


class NoContent(RestreamerError):
    """The requested range exists but holds no usable content (406)."""


class RangeNotSatisfiable(RestreamerError):
    """A byte range starts beyond the end of the file (416)."""


class Busy(RestreamerError):
    """The server has no capacity for this request now (503 + `Retry-After`): every media slot and
    queue place is taken, or the process is out of file descriptors."""

    def __init__(self, reason: str, *, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__(reason, headers={"Retry-After": str(retry_after)})


def as_busy(exc: Exception) -> Exception:
    """Running out of file descriptors is a temporary overload (503), not a server bug (500)."""
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        return Busy("server is out of file descriptors; retry later")
    return exc


# The one table. Order matters: the first matching class wins, so subclasses come first.
ERROR_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (BadRequest, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (NoContent, 406),
    (RangeNotSatisfiable, 416),
    (Busy, 503),
    (RestreamerError, 400),
    (BadTimestamp, 400),
    (UnicodeError, 400),
    (UnsafePath, 403),
    (BadSegmentName, 404),
    (ContainsHoles, 406),
    (NoSegments, 406),
    (NoFrame, 406),
    (FfmpegTimeout, 503),
    (MediaError, 406),
    (PermissionError, 403),
)
# Filesystem errors a path from a request can cause (a symlink loop, an unreadable directory, a name
# too long): the client's path is at fault, never the server.
PATH_ERRNOS = frozenset({errno.ELOOP, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG, errno.ENOTDIR})


def status_for(exc: BaseException) -> int | None:
    """The HTTP status for `exc` per ERROR_STATUS, or None if it is not an expected error."""
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    if isinstance(exc, OSError) and exc.errno in PATH_ERRNOS:
        return 403
    return None


def reason_for(exc: BaseException) -> str:
    """The client-facing reason, one line."""
    if isinstance(exc, MediaError) and not isinstance(exc, NoFrame | FfmpegTimeout):
        return "media processing failed: the stored media in this range cannot be decoded"
    if isinstance(exc, FfmpegTimeout):
        return "media processing took too long"
    if isinstance(exc, OSError):
        return f"path is not accessible: {exc.strerror or 'error'}"  # never the server's path
    if isinstance(exc, UnicodeError):
        return "request is not valid UTF-8"
    return one_line(str(exc))


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn raised errors into one-line plain-text responses (see ERROR_STATUS).

    aiohttp's own HTTP exceptions (unknown route 404, 405, …) are re-rendered in the same style.
    An unexpected exception is logged with its traceback and answered 500.
    """
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(exc.status, one_line(exc.reason))
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except ConnectionResetError:
        # The client went away: nothing to answer and not our error. Re-raised, aiohttp would log
        # it as an ERROR with a traceback; this response is never sent (and counted as aborted).
        logger.debug("client left during %s %s", request.method, request.path)
        return error_response(CLIENT_CLOSED, "client disconnected")
    except Exception as exc:
        return exception_response(request, as_busy(exc))


def exception_response(request: web.Request, exc: Exception) -> web.Response:
    """The one-line response for `exc` per ERROR_STATUS; unexpected ones are logged and 500."""
    status = status_for(exc)
    if status is None:
        logger.error("unexpected error serving %s %s", request.method, request.path, exc_info=exc)
        return error_response(500, "internal error")
    if isinstance(exc, Busy):  # an expected overload, answered with Retry-After: no error
        logger.warning("refused %s %s: %s", request.method, request.path, exc)
    elif status >= 500:
        logger.error("error serving %s %s: %s", request.method, request.path, exc)
    elif isinstance(exc, MediaError | OSError):
        logger.warning("error serving %s %s: %s", request.method, request.path, exc)
    response = error_response(status, reason_for(exc))
    if isinstance(exc, RestreamerError):
        response.headers.update(exc.headers)
    return response
