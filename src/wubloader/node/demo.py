"""The built-in demo stream: a real-time synthetic live HLS source served on 127.0.0.1 for the downloader."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.media.live_encoder import PLAYLIST_NAME, LiveEncoder
from wubloader.runtime.serve import start_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

logger = logging.getLogger(__name__)

DEMO_CHANNEL = "demo"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoStream:
    """Where the running demo stream can be fetched from."""

    url: str
    directory: Path


@contextlib.asynccontextmanager
async def demo_stream(*, size: str = "640x360", fps: int = 25) -> AsyncIterator[DemoStream]:
    """Encode the demo stream (test pattern + tone, 2 s segments, wall-clock PROGRAM-DATE-TIME) and serve it.

    The segments live in a temporary directory outside the store: the node archives them like any
    live stream, over HTTP, through its own downloader.
    """
    with tempfile.TemporaryDirectory(prefix="wubloader-demo-") as tmp:
        directory = Path(tmp)
        encoder = LiveEncoder(directory, size=size, fps=fps, window=10)
        app = web.Application()
        app.router.add_static("/", directory, show_index=False, follow_symlinks=False)
        server = await start_app(app, "127.0.0.1", 0, drain_timeout=2.0)
        try:
            async with asyncio.TaskGroup() as group:
                encoding = group.create_task(encoder.run(), name="demo-encoder")
                try:
                    yield DemoStream(url=f"{server.url}/{PLAYLIST_NAME}", directory=directory)
                finally:
                    encoding.cancel()
        finally:
            await server.close(grace=1.0)
