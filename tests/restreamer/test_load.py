"""Load limits: explicit ranges capped before any work, replication routes on their own threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import urllib.error
import urllib.request

import pytest

from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component
from tests.harness.store_builder import build_store
from wubloader.restreamer.state import STATE

pytestmark = pytest.mark.slow

# The widest range request times may span (years outside 1970…8999 are refused even earlier).
HUGE = "start=1970-01-01T00:00:00&end=8999-01-01T00:00:00"


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_eight_year_long_playlists_are_refused_at_once_and_the_node_stays_usable(tmp_path, components):
    """Eight playlists from year 1001 to 9999 used to hold every worker thread for ~48 minutes; the
    widest range still accepted as times (1970 to 8999) must be refused by the cap as fast."""
    base = tmp_path / "store"
    build_store(base, STORE_START, 10)
    port = free_port()
    server = start_component(
        ["restreamer", "--base-dir", str(base), "--port", str(port), "--max-range", "2h"],
        tmp_path / "logs",
        port=port,
    )
    components.append(server)
    urls = [f"{server.url}/playlist/chan/source.m3u8?{HUGE}"] * 8
    with concurrent.futures.ThreadPoolExecutor(8) as clients:
        answers = list(clients.map(fetch, urls))
    assert answers == [(400, "range may not be longer than 2 hours (--max-range)\n")] * 8
    status, body = fetch(f"{server.url}/files/chan/source/2024-05-01T10")
    assert status == 200 and body.count(".ts") == 10
    # The limit is the configured one: 2 h of explicit range is still served.
    ok = "start=2024-05-01T10:00:00&end=2024-05-01T12:00:00"
    assert fetch(f"{server.url}/playlist/chan/source.m3u8?{ok}")[0] == 200
    assert server.stop() == 0


async def test_replication_routes_answer_while_the_default_pool_is_stuck(tmp_path, make_client):
    """/files listings used the default pool that playlists, cuts and images fill up."""
    paths = build_store(tmp_path, STORE_START, 3)
    client = await make_client(tmp_path)
    release = threading.Event()
    loop = asyncio.get_running_loop()
    stuck = [loop.run_in_executor(None, release.wait, 120) for _ in range(64)]
    try:
        async with asyncio.timeout(20):
            for url, expected in [
                ("/files", '["chan"]'),
                ("/files/chan", '["source"]'),
                ("/files/chan/source", '["2024-05-01T10"]'),
                ("/files/chan/source/2024-05-01T10", f'["{paths[0].name}"'),
            ]:
                response = await client.get(url)
                assert response.status == 200
                assert (await response.text()).startswith(expected)
            segment = await client.get(f"/segments/chan/source/2024-05-01T10/{paths[0].name}")
            assert await segment.read() == paths[0].read_bytes()
    finally:
        release.set()
        await asyncio.gather(*stuck)


async def test_playlists_take_turns_and_peers_do_not_wait_for_them(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 3)
    client = await make_client(tmp_path, max_playlist_jobs=1)
    playback = client.app[STATE].playback
    await playback.acquire()  # another playlist is being rendered
    waiting = asyncio.ensure_future(
        client.get("/playlist/chan/source.m3u8?start=2024-05-01T10:00:00&end=2024-05-01T10:00:06")
    )
    listing = await client.get("/files/chan/source/2024-05-01T10")
    assert listing.status == 200  # peers never queue behind playlists
    await asyncio.sleep(0.2)
    assert not waiting.done()
    playback.release()
    response = await asyncio.wait_for(waiting, 20)
    assert response.status == 200
    assert (await response.text()).count("#EXTINF") == 3
    assert not playback.locked()
