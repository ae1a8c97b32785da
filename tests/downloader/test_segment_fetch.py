"""Segment fetching against a real local HTTP server: full, suspect, partial, gone, byte ranges, init sections."""

from __future__ import annotations

import asyncio
import collections
from datetime import datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.downloader.support import stored_segments, temp_files
from wubloader.downloader.config import DownloaderConfig
from wubloader.downloader.segment_fetch import SegmentAbandoned, SegmentFetcher, SegmentGone, SegmentJob
from wubloader.hls.parse_records import ByteRange, InitSection
from wubloader.runtime.http_client import create_session
from wubloader.runtime.workers import WorkerPool
from wubloader.store import SegmentType, hash_bytes

START = datetime(2024, 5, 1, 10, 0, 2, 500000)
BODY = bytes(range(256)) * 40


class Origin:
    """Handlers keyed by path; counts requests."""

    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        self.partial_once = True

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/full.ts", self.full)
        app.router.add_get("/empty.ts", self.empty)
        app.router.add_get("/slow.ts", self.slow)
        app.router.add_get("/flaky.ts", self.flaky)
        app.router.add_get("/gone.ts", self.gone)
        app.router.add_get("/broken.ts", self.broken)
        app.router.add_get("/all.bin", self.all_bin)
        app.router.add_get("/ranged.bin", self.ranged)
        app.router.add_get("/init.mp4", self.init)
        return app

    async def full(self, request):
        self.hits["full"] += 1
        return web.Response(body=BODY)

    async def empty(self, request):
        return web.Response(body=b"")

    async def slow(self, request):
        response = web.StreamResponse()
        response.content_length = len(BODY)
        await response.prepare(request)
        await response.write(BODY[:100])
        await asyncio.sleep(0.4)
        await response.write(BODY[100:])
        return response

    async def flaky(self, request):
        self.hits["flaky"] += 1
        if not self.partial_once:
            return web.Response(body=BODY)
        self.partial_once = False
        response = web.StreamResponse()
        response.content_length = len(BODY)
        await response.prepare(request)
        await response.write(BODY[:1000])
        request.transport.abort()
        raise ConnectionResetError

    async def gone(self, request):
        return web.Response(status=403)

    async def broken(self, request):
        self.hits["broken"] += 1
        return web.Response(status=500)

    async def all_bin(self, request):  # ignores Range, as some servers do
        return web.Response(body=BODY)

    async def ranged(self, request):
        first, last = request.http_range.start, request.http_range.stop
        return web.Response(status=206, body=BODY[first:last])

    async def init(self, request):
        self.hits["init"] += 1
        return web.Response(body=b"INIT")


@pytest.fixture
async def origin():
    state = Origin()
    server = TestServer(state.app(), host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url(""))
    yield state
    await server.close()


async def store(tmp_path, origin, path, **kw):
    config = DownloaderConfig(
        channel="chan",
        source="http://unused/",
        base_dir=tmp_path,
        retry_initial=0.05,
        retry_max=0.1,
        give_up_after=kw.pop("give_up_after", 5.0),
        suspect_after=kw.pop("suspect_after", 59.0),
    )
    job = SegmentJob(
        uri=origin.url + path,
        start=kw.pop("start", START),
        duration_text="2.0",
        byterange=kw.pop("byterange", None),
        init_section=kw.pop("init_section", None),
    )
    async with create_session() as session:
        fetcher = SegmentFetcher(session, config, "source", pool=WorkerPool("test-downloader", 1))
        return await fetcher.store(job, asyncio.Event())


async def test_full_segment_named_and_byte_identical(tmp_path, origin):
    assert await store(tmp_path, origin, "/full.ts") is SegmentType.FULL
    (seg,) = stored_segments(tmp_path)
    assert seg.path.endswith(f"/chan/source/2024-05-01T10/00:02.500000-2.0-full-{hash_bytes(BODY)}.ts")
    assert open(seg.path, "rb").read() == BODY


async def test_existing_full_is_not_fetched_again(tmp_path, origin):
    await store(tmp_path, origin, "/full.ts")
    assert await store(tmp_path, origin, "/full.ts") is None
    assert origin.hits["full"] == 1


async def test_empty_body_is_suspect(tmp_path, origin):
    assert await store(tmp_path, origin, "/empty.ts") is SegmentType.SUSPECT
    (seg,) = stored_segments(tmp_path)
    assert seg.hash == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"


async def test_slow_fetch_is_suspect(tmp_path, origin):
    assert await store(tmp_path, origin, "/slow.ts", suspect_after=0.3) is SegmentType.SUSPECT
    (seg,) = stored_segments(tmp_path)
    assert seg.type is SegmentType.SUSPECT and seg.hash == hash_bytes(BODY)


async def test_failure_midway_leaves_partial_then_retry_stores_full(tmp_path, origin):
    assert await store(tmp_path, origin, "/flaky.ts") is SegmentType.FULL
    full, partial = stored_segments(tmp_path)  # sorted by start, then type name
    assert (partial.type, partial.hash) == (SegmentType.PARTIAL, hash_bytes(BODY[:1000]))
    assert (full.type, full.hash) == (SegmentType.FULL, hash_bytes(BODY))
    assert origin.hits["flaky"] == 2 and not temp_files(tmp_path)


async def test_forbidden_segment_is_gone_without_a_file(tmp_path, origin):
    with pytest.raises(SegmentGone):
        await store(tmp_path, origin, "/gone.ts")
    assert stored_segments(tmp_path) == []


async def test_persistent_errors_give_up_at_the_horizon(tmp_path, origin):
    with pytest.raises(SegmentAbandoned):
        await store(tmp_path, origin, "/broken.ts", give_up_after=0.5)
    assert origin.hits["broken"] >= 3 and stored_segments(tmp_path) == []


@pytest.mark.parametrize("path", ["/all.bin", "/ranged.bin"])
async def test_byte_range_stores_exactly_the_range(tmp_path, origin, path):
    byterange = ByteRange(length=1000, offset=3000)
    assert await store(tmp_path, origin, path, byterange=byterange) is SegmentType.FULL
    (seg,) = stored_segments(tmp_path)
    assert open(seg.path, "rb").read() == BODY[3000:4000]


async def test_init_section_prepended_and_fetched_once(tmp_path, origin):
    section = InitSection(uri=origin.url + "/init.mp4")
    config = DownloaderConfig(channel="chan", source="http://unused/", base_dir=tmp_path)
    async with create_session() as session:
        fetcher = SegmentFetcher(session, config, "source", pool=WorkerPool("test-downloader", 1))
        for second in (0, 2, 4):
            job = SegmentJob(
                uri=origin.url + "/full.ts",
                start=datetime(2024, 5, 1, 10, 0, second),
                duration_text="2.0",
                byterange=None,
                init_section=section,
            )
            assert await fetcher.store(job, asyncio.Event()) is SegmentType.FULL
    segments = stored_segments(tmp_path)
    assert [s.hash for s in segments] == [hash_bytes(b"INIT" + BODY)] * 3
    assert origin.hits["init"] == 1
