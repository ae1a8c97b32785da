"""Streamed response bodies: every byte after the headers is best effort, and a failure must show.

Validation is finished before the headers go out (STYLE rule 19). A failure after that cannot
change the status any more, so the connection is closed without the terminating chunk: every HTTP
client then reports a truncated body instead of a short "complete" one. A client that went away is
nobody's error and logs nothing above DEBUG.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from wubloader.media.errors import MediaError
from wubloader.runtime.http_errors import one_line

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Awaitable, Callable

    from aiohttp import web

logger = logging.getLogger(__name__)


async def stream_body(
    request: web.Request, response: web.StreamResponse, chunks: AsyncIterable[bytes | bytearray]
) -> web.StreamResponse:
    """Prepare `response`, write `chunks` (none for HEAD) and finish it; abort on any failure."""

    async def write_chunks() -> None:
        async for chunk in chunks:
            await response.write(chunk)

    return await send_body(request, response, write_chunks)


async def send_body(
    request: web.Request, response: web.StreamResponse, write: Callable[[], Awaitable[None]]
) -> web.StreamResponse:
    """Prepare `response`, run `write` (not for HEAD) to send the body, and finish; abort on any failure."""
    try:
        await response.prepare(request)
        if request.method != "HEAD":
            await write()
        await response.write_eof()
    except ConnectionResetError:
        logger.debug("client left during %s", request.path)
    except (MediaError, OSError) as exc:
        logger.error("%s failed after the response started: %s", request.path, one_line(str(exc)))
        abort(request)
    except Exception:
        logger.exception("%s failed after the response started", request.path)
        abort(request)
    return response


def abort(request: web.Request) -> None:
    """Close the connection now: what was sent stays sent, the end of the body never comes."""
    if request.transport is not None:
        request.transport.close()
