"""Hostile requests: every one is a 4xx with a one-line plain-text reason, never a 5xx or a file leak."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import pytest
from yarl import URL

from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component
from tests.harness.store_builder import build_store

H = "2024-05-01T10"
SEG = "00%3A00.000000-2.0-full-AAAA.ts"
GOOD = "start=2024-05-01T10:00:00&end=2024-05-01T10:00:10"
LONG = "a" * 256
DIR_SEGMENT = "00%3A30.000000-2.0-full-BBBB.ts"
HOSTILE = [
    # bad timestamps
    "/playlist/chan/source.m3u8?start=yesterday",
    "/playlist/chan/source.m3u8?start=2024-13-01T00:00:00",
    "/playlist/chan/source.m3u8?start=2024-02-30T00:00:00",
    "/playlist/chan/source.m3u8?start=2024-05-01T25:00:00",
    "/playlist/chan/source.m3u8?start=2024-05-01T10:00:00.1234567",
    "/playlist/chan/source.m3u8?start=2024-05-01",
    "/playlist/chan/source.m3u8?start=0001-01-01T00:00:00%2B05:00",
    "/playlist/chan/source.m3u8?start=9999-12-31T23:59:59-05:00",
    "/playlist/chan/source.m3u8?start=2024-05-01T10:00:00%2B99:00",
    "/playlist/chan/source.m3u8?start=%00",
    "/playlist/chan/source.m3u8?start=" + "9" * 5000,
    "/playlist/chan/source.m3u8?start=%F0%9F%92%A9",
    "/playlist/chan/source.m3u8?start=2024-05-01T10:00:00&start=2024-05-01T10:00:01",
    "/frame/chan/source.png?timestamp=now",
    "/frame/chan/source.png",
    "/waveform/chan/source.png?start=2024-05-01T10:00:00",
    # reversed / empty / too long ranges
    "/playlist/chan/source.m3u8?start=2024-05-01T10:00:10&end=2024-05-01T10:00:00",
    "/playlist/chan/source.m3u8?start=2024-05-01T10:00:00&end=2024-05-01T10:00:00",
    "/waveform/chan/source.png?start=2024-05-01T10:00:10&end=2024-05-01T10:00:00",
    "/waveform/chan/source.png?start=2024-05-01T00:00:00&end=2024-05-01T10:00:00",
    "/playlist/chan/source.m3u8?start=2024-04-01T00:00:00",
    "/playlist/chan/source.m3u8?start=1001-01-01T00:00:00&end=9999-01-01T00:00:00",
    "/playlist/chan.m3u8?start=1001-01-01T00:00:00&end=9999-01-01T00:00:00",
    "/cut/chan/source.ts?range=1001-01-01T00:00:00,9999-01-01T00:00:00",
    "/cut/chan/source.ts?start=1001-01-01T00:00:00&end=9999-01-01T00:00:00&type=rough",
    "/cut/chan/source.ts?" + "&".join(["range=2024-05-01T10:00:00,2024-05-01T10:00:01"] * 101),
    # huge / bad sizes
    f"/waveform/chan/source.png?{GOOD}&size=100000x100000",
    f"/waveform/chan/source.png?{GOOD}&size=0x10",
    f"/waveform/chan/source.png?{GOOD}&size=10x0",
    f"/waveform/chan/source.png?{GOOD}&size=-5x10",
    f"/waveform/chan/source.png?{GOOD}&size=10",
    f"/waveform/chan/source.png?{GOOD}&size=4097x64",
    f"/waveform/chan/source.png?{GOOD}&size=%EF%BC%91x64",
    # unknown channel / quality / segment
    "/playlist/chan/nope.m3u8",
    "/playlist/nope.m3u8",
    f"/waveform/chan/nope.png?{GOOD}",
    "/frame/nope/source.png?timestamp=2024-05-01T10:00:01",
    f"/segments/chan/source/{H}/{SEG}",
    f"/segments/chan/source/{H}/not-a-segment.ts",
    f"/segments/chan/source/notanhour/{SEG}",
    "/files/chan/source/2024-05-01T10?tombstones=maybe",
    # traversal, hidden, NUL, encoded slashes, backslashes
    "/segments/..%2F..%2Fetc/passwd/x/y",
    f"/segments/chan/source/{H}/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/segments/%2E%2E/%2E%2E/%2E%2E/etc%2Fpasswd",
    f"/segments/chan/source/{H}/.hidden.ts",
    f"/segments/.chan/source/{H}/{SEG}",
    f"/segments/chan/source/{H}/a%00b.ts",
    f"/segments/chan/source/{H}/..%5C..%5Cx.ts",
    "/files/..",
    "/files/%2E%2E",
    "/files/chan%2F..%2F..",
    "/files/.git",
    "/playlist/..%2Fchan.m3u8",
    "/playlist/chan/..%2Fsource.m3u8",
    "/waveform/%2E/source.png?" + GOOD,
    # non-UTF-8
    "/files/%FF%FE",
    f"/segments/chan/source/{H}/%C3%28.ts",
    "/playlist/chan/source.m3u8?start=%FF",
    "/playlist/%FF.m3u8",
    # unknown routes and methods
    "/nope",
    "/segments",
    "/files/chan/source/2024-05-01T10/extra/deep",
    # year 1 / 9999 start, end and timestamp values (date arithmetic must never overflow)
    *[
        url.format(t=t)
        for t in ("0001-01-01T00:00:00", "9999-12-31T23:59:59.999999")
        for url in (
            "/playlist/chan/source.m3u8?start={t}",
            "/playlist/chan/source.m3u8?end={t}",
            "/playlist/chan/source.m3u8?start={t}&end=2024-05-01T10:00:10",
            "/playlist/chan/source.m3u8?start=2024-05-01T10:00:00&end={t}",
            "/playlist/chan.m3u8?start={t}",
            "/playlist/chan.m3u8?end={t}",
            "/frame/chan/source.png?timestamp={t}",
            "/waveform/chan/source.png?start={t}&end=2024-05-01T10:00:10",
            "/waveform/chan/source.png?start=2024-05-01T10:00:00&end={t}",
            "/cut/chan/source.ts?range={t},2024-05-01T10:00:10",
            "/cut/chan/source.ts?range=2024-05-01T10:00:00,{t}",
            "/cut/chan/source.ts?start={t}",
            "/cut/chan/source.ts?end={t}&type=rough",
        )
    ],
    "/playlist/chan/source.m3u8?start=9999-12-31T23:00:00&end=9999-12-31T23:59:59",
    "/cut/chan/source.ts?range=9999-12-31T23:59:50,9999-12-31T23:59:59&type=rough",
    # path parts over 255 bytes, on every route
    f"/files/{LONG}",
    f"/files/chan/{LONG}",
    f"/files/chan/source/{LONG}",
    f"/segments/{LONG}/source/{H}/{SEG}",
    f"/segments/chan/source/{H}/00%3A00.000000-2.0-full-{LONG}.ts",
    f"/playlist/{LONG}.m3u8",
    f"/playlist/chan/{LONG}.m3u8",
    f"/frame/chan/{LONG}.png?timestamp=2024-05-01T10:00:01",
    f"/waveform/{LONG}/source.png?{GOOD}",
    f"/cut/chan/{LONG}.ts?range=2024-05-01T10:00:00,2024-05-01T10:00:02",
    # directories that cannot be read (a symlink loop: unreadable even for root)
    "/files/chan/loop",
    "/files/chan/loop/2024-05-01T10",
    f"/files/chan/source/{H}loop",
    "/playlist/chan/loop.m3u8?start=2024-05-01T10:00:00&end=2024-05-01T10:00:10",
    f"/segments/chan/loop/{H}/{SEG}",
    # a directory named like a segment (30-32 s)
    "/frame/chan/source.png?timestamp=2024-05-01T10:00:31",
    "/cut/chan/source.ts?range=2024-05-01T10:00:30,2024-05-01T10:00:32&type=rough",
    f"/segments/chan/source/{H}/{DIR_SEGMENT}",
    # garbage media (the store's segments are not MPEG-TS)
    "/frame/chan/source.png?timestamp=2024-05-01T10:00:01",
    "/cut/chan/source.ts?range=2024-05-01T10:00:01,2024-05-01T10:00:05",
    "/cut/chan/source.ts?range=2024-05-01T10:00:01,2024-05-01T10:00:05&type=smart",
    "/cut/chan/source.ts?range=2024-05-01T10:00:01,2024-05-01T10:00:05&type=full",
    "/cut/chan/source.ts?range=2024-05-01T10:00:01,2024-05-01T10:00:05&type=webm",
    f"/waveform/chan/source.png?{GOOD}",
    # a master playlist with start >= end
    "/playlist/chan.m3u8?start=2024-05-01T10:00:10&end=2024-05-01T10:00:00",
    "/playlist/chan.m3u8?start=2024-05-01T10:00:00&end=2024-05-01T10:00:00",
]


def build_hostile_store(base: Path) -> None:
    """Ten segments of bytes that are not media, plus unreadable and misnamed directories."""
    build_store(base, STORE_START, 10)
    (base / ".git").mkdir()
    (base / "chan" / "loop").symlink_to("loop")
    (base / "chan" / "source" / f"{H}loop").symlink_to(f"{H}loop")
    (base / "chan" / "source" / H / unquote(DIR_SEGMENT)).mkdir()


@pytest.fixture
async def client(tmp_path, make_either_client):
    build_hostile_store(tmp_path)
    return await make_either_client(tmp_path)


async def test_hostile_table_is_all_4xx_with_one_line_reason(client):
    assert len(HOSTILE) >= 110
    problems = []
    for url in HOSTILE:
        response = await client.get(URL(url, encoded=True))
        body = await response.read()
        text = body.decode("utf-8", "replace")
        ok = (
            400 <= response.status < 500
            and response.content_type == "text/plain"
            and text.endswith("\n")
            and text.count("\n") == 1
            and 0 < len(text) <= 301
            and response.headers.get("Access-Control-Allow-Origin") == "*"
        )
        if not ok:
            problems.append((url[:120], response.status, text[:200]))
    assert problems == []


async def test_methods_not_allowed(client):
    for method in ("POST", "PUT", "DELETE"):
        response = await client.request(method, "/files")
        assert response.status == 405
        assert (await response.text()).count("\n") == 1


def test_hostile_table_against_a_real_process(tmp_path, components):
    base = tmp_path / "store"
    build_hostile_store(base)
    port = free_port()
    components.append(
        start_component(
            ["restreamer", "--base-dir", str(base), "--port", str(port)], tmp_path / "logs", port=port
        )
    )
    problems = []
    for url in HOSTILE:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{url}", timeout=30) as response:
                status, body, ctype = response.status, response.read(), response.headers["Content-Type"]
        except urllib.error.HTTPError as exc:
            status, body, ctype = exc.code, exc.read(), exc.headers["Content-Type"]
        text = body.decode("utf-8", "replace")
        if not (400 <= status < 500 and ctype.startswith("text/plain") and text.count("\n") == 1):
            problems.append((url[:120], status, text[:200]))
    assert problems == []
    assert "Traceback" not in components[0].log()
