"""The downloader keeps archiving while the loop's default thread pool is fully taken by other work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.downloader.support import EncoderProcess, stored_segments
from tests.downloader.test_live_archive import config, wait_async
from tests.harness.live_source import LiveSource
from wubloader.downloader.manager import Downloader

pytestmark = pytest.mark.ffmpeg


async def test_downloader_archives_while_the_default_pool_is_stuck(tmp_path):
    """Playlist or cut work of a node used to hold every default-pool thread; nothing was stored."""
    base = tmp_path / "store"
    release = threading.Event()
    loop = asyncio.get_running_loop()
    stuck = [loop.run_in_executor(None, release.wait, 120) for _ in range(64)]
    try:
        with LiveSource(tmp_path / "encoder", window=8) as source:
            with EncoderProcess(tmp_path / "encoder", segment_seconds=1):
                stop = asyncio.Event()
                task = asyncio.create_task(Downloader(config(base, source.master_url)).run(stop))
                full = lambda: [s for s in stored_segments(base) if s.type.value == "full"]  # noqa: E731
                await wait_async(lambda: len(full()) >= 3, 60, "segments stored despite the stuck pool")
                stop.set()
                await asyncio.wait_for(task, 30)
    finally:
        release.set()
        await asyncio.gather(*stuck)
