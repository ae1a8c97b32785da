"""Rough cuts sent zero-copy: each segment file goes from the page cache to the socket by sendfile.

A rough cut is the covering segments' bytes back to back, so the response needs no userspace copy at
all: the sizes are taken first (Content-Length, and a missing file is still a clean 404), then every
file is opened with O_NOFOLLOW and sent whole by `send_file`, the socket corked throughout. A file
whose size changed since is a failure after the headers: the connection is aborted (truncated body).
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from wubloader.restreamer.errors import NotFound
from wubloader.restreamer.segment_file import send_file, set_cork
from wubloader.restreamer.streaming import send_body

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiohttp import web

    from wubloader.restreamer.media_slots import OutputPace
    from wubloader.store.naming import Segment


def file_sizes(paths: Sequence[str]) -> list[int]:
    """Sizes of the files (blocking: run in a thread); NotFound if one vanished."""
    try:
        return [os.stat(path).st_size for path in paths]
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound("a segment vanished") from None


async def send_rough_cut(
    request: web.Request, response: web.StreamResponse, segments: Sequence[Segment], pace: OutputPace
) -> web.StreamResponse:
    """Send `segments` whole, in order, as the body of `response` (not yet prepared), paced."""
    paths = [seg.path for seg in segments]
    sizes = await asyncio.to_thread(file_sizes, paths)
    response.content_length = sum(sizes)

    async def write() -> None:
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        corked = sock is not None and set_cork(sock, True)
        try:
            for path, size in zip(paths, sizes, strict=True):
                await pace.take(size)
                if transport is None or transport.is_closing():
                    raise ConnectionResetError("connection lost")
                await _send_whole(transport, path, size)
        finally:
            if corked and sock is not None:
                set_cork(sock, False)

    return await send_body(request, response, write)


async def _send_whole(transport: asyncio.Transport, path: str, size: int) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if os.fstat(fd).st_size != size:
            raise OSError(f"{path.rsplit('/', 1)[-1]} changed size while a rough cut was sent")
        await send_file(transport, fd, 0, size)
    finally:
        os.close(fd)
