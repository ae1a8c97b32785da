"""Worker behaviour on hostile playlists: malformed text retried, encrypted segments refused, ads skipped."""

from __future__ import annotations

import asyncio
import collections
import functools

from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import REGISTRY

from tests.downloader.support import stored_segments
from tests.downloader.test_live_archive import wait_async
from wubloader.downloader.config import DownloaderConfig
from wubloader.downloader.manager import Downloader

GOOD = """#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00Z
#EXTINF:2.000,
a.ts
#EXT-X-CUE-OUT:2
#EXTINF:2.000,
ad.ts
#EXT-X-CUE-IN
#EXT-X-KEY:METHOD=AES-128,URI="key.bin"
#EXTINF:2.000,
secret.ts
#EXT-X-KEY:METHOD=NONE
#EXTINF:2.002,
b.ts
"""


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_hostile_playlists(tmp_path):
    hits: collections.Counter[str] = collections.Counter()
    state = {"playlist": "<html>502 Bad Gateway</html>"}

    async def playlist(request):
        hits["playlist"] += 1
        return web.Response(text=state["playlist"])

    async def segment(request):
        name = request.match_info["name"]
        hits[name] += 1
        return web.Response(body=name.encode() * 100)

    app = web.Application()
    app.router.add_get("/index.m3u8", playlist)
    app.router.add_get("/{name}", segment)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    channel = "hostile"
    errors = functools.partial(metric, "wubloader_downloader_errors_total", channel=channel, quality="source")
    ads = functools.partial(
        metric, "wubloader_downloader_ad_segments_skipped_total", channel=channel, quality="source"
    )
    # The registry is process-global: this test counts its own increments only.
    encrypted_before, ads_before = errors(kind="encrypted"), ads(reason="scte35")
    config = DownloaderConfig(
        channel=channel, source=str(server.make_url("/index.m3u8")), base_dir=tmp_path, poll_interval=0.1
    )
    stop = asyncio.Event()
    task = asyncio.create_task(Downloader(config).run(stop))
    try:
        await wait_async(lambda: hits["playlist"] >= 3, 60, "repeated polls of the malformed playlist")
        assert (
            metric(
                "wubloader_downloader_errors_total", channel=channel, quality="source", kind="playlist_parse"
            )
            >= 2
        )
        assert not task.done()
        state["playlist"] = GOOD
        await wait_async(lambda: len(stored_segments(tmp_path, channel)) == 2, 60, "the two plain segments")
        polls = hits["playlist"]  # a few more polls give a wrong fetch of the other entries its chance
        await wait_async(lambda: hits["playlist"] >= polls + 3, 60, "three more playlist polls")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await server.close()
    names = ["-".join(s.path.split("/")[-1].split("-", 3)[:3]) for s in stored_segments(tmp_path, channel)]
    assert names == ["00:00.000000-2.0-full", "00:06.000000-2.002-full"]
    assert hits["secret.ts"] == 0 and hits["ad.ts"] == 0 and hits["key.bin"] == 0
    assert errors(kind="encrypted") - encrypted_before == 1
    assert ads(reason="scte35") - ads_before == 1
