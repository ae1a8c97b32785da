"""A slow disk never stalls the event loop: HTTP served by the same loop answers while a write hangs."""

from __future__ import annotations

import asyncio
import threading

import aiohttp

from tests.downloader.fixture_origin import FixtureOrigin, fixture
from tests.downloader.support import stored_segments
from tests.downloader.test_live_archive import wait_async
from wubloader.downloader.config import DownloaderConfig
from wubloader.downloader.manager import Downloader
from wubloader.store import SegmentType, SegmentWriter

STALL_SECONDS = 10.0


class StalledDisk:
    """Makes SegmentWriters whose commit (fsync + rename) hangs until released, like a saturated disk."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def open(self, base, channel, quality, start, duration) -> SegmentWriter:
        disk = self

        class Slow(SegmentWriter):
            def commit(self, type=SegmentType.FULL, expected_hash=None, *, sync_dir=True):
                disk.entered.set()
                disk.release.wait(STALL_SECONDS)
                try:
                    return super().commit(type, expected_hash, sync_dir=sync_dir)
                finally:
                    disk.finished.set()

        return Slow(base, channel, quality, start, duration)


async def test_a_hanging_write_does_not_delay_responses_of_the_same_loop(tmp_path):
    origin = await FixtureOrigin({"/live.m3u8": fixture("twitch_live_2023.m3u8")}).start()
    disk = StalledDisk()
    base = tmp_path / "store"
    config = DownloaderConfig(
        channel="slowdisk", source=origin.url("/live.m3u8"), base_dir=base, poll_interval=0.2
    )
    stop = asyncio.Event()
    task = asyncio.create_task(Downloader(config, open_writer=disk.open).run(stop))
    try:
        await wait_async(disk.entered.is_set, 20, "a segment write in progress")
        async with aiohttp.ClientSession() as client, client.get(origin.url("/live.m3u8")) as response:
            assert response.status == 200
            await response.read()
        # The answer came from this loop while the write was still hanging in its thread.
        assert not disk.finished.is_set()
        polls = origin.hits["/live.m3u8"]
        await wait_async(lambda: origin.hits["/live.m3u8"] >= polls + 3, 10, "polling goes on meanwhile")
        assert not disk.finished.is_set()
    finally:
        disk.release.set()
        stop.set()
        await asyncio.wait_for(task, 30)
        await origin.close()
    assert len([s for s in stored_segments(base, "slowdisk") if s.type is SegmentType.FULL]) == 6
