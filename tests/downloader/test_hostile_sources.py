"""Sources and disks that misbehave: endless bodies, encrypted-only windows, a disk that keeps failing."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import datetime

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.downloader.fixture_origin import FixtureOrigin, fixture
from tests.downloader.support import stored_segments, temp_files
from tests.downloader.test_live_archive import wait_async
from tests.downloader.test_real_world_archive import errors
from wubloader.downloader.claims import Claims
from wubloader.downloader.config import DownloaderConfig
from wubloader.downloader.manager import Downloader
from wubloader.downloader.segment_fetch import SegmentAbandoned, SegmentFetcher, SegmentJob
from wubloader.downloader.worker import MediaWorker
from wubloader.runtime.http_client import create_session
from wubloader.runtime.workers import WorkerPool

MB = 1024 * 1024


async def test_segment_body_is_capped_by_a_plausible_bitrate(tmp_path):
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        """A segment URL that streams up to 40 MB (what a hostile source sent for a 2 s segment)."""
        nonlocal sent
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"\x47" * (256 * 1024)
        try:
            for _ in range(160):
                await response.write(chunk)
                sent += len(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    too_large = errors("chan", "segment_too_large")  # the registry is process-global: count deltas
    app = web.Application()
    app.router.add_get("/endless.ts", endless)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # The default plausible bitrate (80 Mb/s) allows 20 MB for a 2 s segment.
    config = DownloaderConfig(channel="chan", source="http://unused/", base_dir=tmp_path, give_up_after=5.0)
    job = SegmentJob(
        uri=str(server.make_url("/endless.ts")),
        start=datetime(2024, 5, 1, 10, 0, 0),
        duration_text="2.0",
        byterange=None,
        init_section=None,
    )
    try:
        async with create_session() as session:
            fetcher = SegmentFetcher(session, config, "source", pool=WorkerPool("test-downloader", 1))
            try:
                await fetcher.store(job, asyncio.Event())
                outcome = "stored"
            except SegmentAbandoned:
                outcome = "abandoned"
    finally:
        await server.close()
    assert outcome == "abandoned"
    assert stored_segments(tmp_path) == [] and not temp_files(tmp_path)  # nothing kept, not even a partial
    assert sent < 40 * MB
    assert errors("chan", "segment_too_large") - too_large >= 1


class Events:
    """Records what a worker tells its manager."""

    def __init__(self) -> None:
        self.content = 0
        self.trouble = 0

    def on_content(self, worker: MediaWorker) -> None:
        self.content += 1

    def on_trouble(self, worker: MediaWorker) -> None:
        self.trouble += 1


async def test_encrypted_segments_are_no_content_for_a_handover(tmp_path):
    text = fixture("rfc8216_8.3_encrypted.m3u8").replace("#EXT-X-TARGETDURATION:15", "#EXT-X-TARGETDURATION:15\n"
                                                          "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00Z")  # fmt: skip
    origin = await FixtureOrigin({"/enc.m3u8": text}).start()
    config = DownloaderConfig(
        channel="enc", source=origin.url("/enc.m3u8"), base_dir=tmp_path, poll_interval=0.1
    )
    events = Events()
    encrypted = errors("enc", "encrypted")
    try:
        async with create_session() as session:
            worker = MediaWorker(
                worker_id=1,
                quality="source",
                url=origin.url("/enc.m3u8"),
                session=session,
                config=config,
                fetcher=SegmentFetcher(session, config, "source", pool=WorkerPool("test-downloader", 1)),
                claims=Claims(),
                events=events,
            )
            task = asyncio.create_task(worker.run())
            await wait_async(lambda: origin.hits["/enc.m3u8"] >= 3, 60, "polls")
            worker.stop()
            await asyncio.wait_for(task, 10)
    finally:
        await origin.close()
    assert events.content == 0  # ciphertext must not end the previous worker's URL
    assert errors("enc", "encrypted") - encrypted == 4  # each segment refused once, not once per poll
    assert not [p for p in origin.hits if p.endswith(".ts") or "key" in p]


async def test_a_failing_disk_is_logged_once_and_retried_with_backoff(tmp_path, caplog):
    origin = await FixtureOrigin({"/live.m3u8": fixture("twitch_live_2023.m3u8")}).start()
    base = tmp_path / "store"
    (base / "diskfail").mkdir(parents=True)
    (base / "diskfail" / "source").write_text("a file where the quality directory should be")
    config = DownloaderConfig(
        channel="diskfail", source=origin.url("/live.m3u8"), base_dir=base, poll_interval=0.1
    )
    stop = asyncio.Event()
    caplog.set_level(logging.DEBUG, logger="wubloader.downloader")
    before = errors("diskfail", "segment_write")
    started = time.monotonic()
    task = asyncio.create_task(Downloader(config).run(stop))
    try:
        await wait_async(lambda: origin.hits["/live.m3u8"] >= 25, 60, "2.5 s of polls")
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        elapsed = time.monotonic() - started
        await origin.close()
    failures = [
        r for r in caplog.records if r.levelno >= logging.ERROR and "cannot write segments" in r.getMessage()
    ]
    assert len(failures) == 1  # one distinct error, logged once
    attempts = errors("diskfail", "segment_write") - before
    # Without backoff: 6 segments on every one of >= 25 polls. With it (1 s, 2 s, 4 s ... ±10 %) rounds
    # start near 0, 1, 3, 7 ... s, so a slow (loaded) run may see more rounds: bound them by the time taken.
    rounds = math.floor(math.log2(elapsed + 1)) + 2  # +1: jitter may start a round just early
    assert 1 <= attempts <= 6 * rounds < 6 * 25
    assert not temp_files(base)
