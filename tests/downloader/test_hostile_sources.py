"""Sources and disks that misbehave: endless bodies, encrypted-only windows, a disk that keeps failing."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import datetime
from pathlib import Path

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
            await asyncio.wait_for(task, 60)
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


async def test_a_segment_the_old_worker_gives_back_is_fetched_by_the_new_one(tmp_path):
    """A handover: the new worker sees a segment the old one is still fetching, and the old one then
    fails it (its URL expired: 403). The new worker must fetch it under its own URL."""
    playlist = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n"
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00Z\n#EXTINF:2.000,\nseg.ts\n"
    )
    old_asked, old_answer = asyncio.Event(), asyncio.Event()
    hits: list[str] = []

    async def media(request: web.Request) -> web.Response:
        return web.Response(text=playlist)

    async def segment(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.match_info["url"] == "old":
            old_asked.set()
            await old_answer.wait()
            return web.Response(status=403, text="token expired")
        return web.Response(body=b"new URL's bytes" * 1000)

    app = web.Application()
    app.router.add_get("/{url}/index.m3u8", media)
    app.router.add_get("/{url}/seg.ts", segment)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    config = DownloaderConfig(
        channel="chan", source=str(server.make_url("/old/index.m3u8")), base_dir=tmp_path, poll_interval=0.1
    )
    claims, events = Claims(), Events()
    try:
        async with create_session() as session:
            fetcher = SegmentFetcher(session, config, "source", pool=WorkerPool("test-downloader", 1))

            def worker(worker_id: int, url: str) -> MediaWorker:
                return MediaWorker(
                    worker_id=worker_id, quality="source", url=str(server.make_url(f"/{url}/index.m3u8")),
                    session=session, config=config, fetcher=fetcher, claims=claims, events=events,
                )  # fmt: skip

            old, new = worker(1, "old"), worker(2, "new")
            old_task = asyncio.create_task(old.run())
            await asyncio.wait_for(old_asked.wait(), 60)
            new_task = asyncio.create_task(new.run())
            await wait_async(lambda: new.polls >= 3, 60, "the new worker's polls")
            assert hits == ["/old/seg.ts"]  # the new worker left the segment to the old one
            old_answer.set()
            await wait_async(lambda: stored_segments(tmp_path), 60, "the segment stored")
            for each in (old, new):
                each.stop()
            await asyncio.wait_for(asyncio.gather(old_task, new_task), 60)
    finally:
        await server.close()
    assert hits == ["/old/seg.ts", "/new/seg.ts"]
    [stored] = stored_segments(tmp_path)
    assert stored.type.value == "full"
    assert Path(stored.path).read_bytes() == b"new URL's bytes" * 1000
