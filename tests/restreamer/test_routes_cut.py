"""`/cut` through the real app: streamed cuts, every bad input refused before a byte, holes, disconnects."""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import STORE_START
from tests.harness.cut_check import FPS, decode_errors, first_frame_index, packets
from tests.harness.media import store_clip
from tests.harness.processes import free_port, start_component
from tests.harness.store_builder import write_segment
from tests.media.test_cut_engine import _ffmpeg_children
from wubloader.store import SegmentIndex

pytestmark = pytest.mark.ffmpeg
FMT = "%Y-%m-%dT%H:%M:%S.%f"
URL = "/cut/chan/source.ts"


def at(seconds: float) -> str:
    return f"{STORE_START + timedelta(seconds=seconds):{FMT}}"


def rng(a: float, b: float) -> str:
    return f"{at(a)},{at(b)}"


@pytest.fixture(scope="module")
def store(tmp_path_factory, clip_bframes):
    base = tmp_path_factory.mktemp("cutroute")
    store_clip(base, clip_bframes, STORE_START, skip=frozenset({20}))  # 40-42 s missing
    return base


async def test_smart_cut_streams_with_headers(store, make_client, tmp_path):
    client = await make_client(store)
    params = [
        ("range", rng(1.3, 5.7)),
        ("range", rng(10.1, 12.9)),
        ("transition", "fade,0.5"),
        ("type", "smart"),
    ]
    response = await client.get(URL, params=params)
    assert response.status == 200, await response.text()
    assert response.content_type == "video/mp2t"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="chan-source-2024-05-01T10-00-01.ts"'
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    out = tmp_path / "cut.ts"
    out.write_bytes(await response.read())
    expected = (
        first_frame_index(5.7) - first_frame_index(1.3) + first_frame_index(12.9) - first_frame_index(10.1)
    )
    assert packets(out).frames == expected - round(0.5 * FPS)
    assert decode_errors(out) == ""


async def test_legacy_start_end_and_webm(store, make_client, tmp_path):
    client = await make_client(store)
    response = await client.get(URL, params={"start": at(2.5), "end": at(4.5), "type": "webm"})
    assert response.status == 200, await response.text()
    assert response.content_type == "video/webm"
    assert response.headers["Content-Disposition"].endswith('.webm"')
    out = tmp_path / "cut.webm"
    out.write_bytes(await response.read())
    assert packets(out).frames == 2 * FPS
    assert decode_errors(out) == ""


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ([("range", at(1))], 400, "range must be START,END"),
        ([("range", rng(5, 3))], 400, "Ends must be after starts"),
        ([("range", "yesterday,today")], 400, ""),
        ([("range", rng(1, 3)), ("transition", "fade,0.5")], 400, "Too many transitions"),
        (
            [("range", rng(1, 3)), ("range", rng(5, 7)), ("transition", "nosuch,0.5")],
            400,
            "unknown transition",
        ),
        ([("range", rng(1, 3)), ("range", rng(5, 7)), ("transition", "fade,x")], 400, "NAME,SECONDS"),
        ([("range", rng(1, 3)), ("range", rng(5, 7)), ("transition", "fade,2.5")], 400, "too short"),
        ([("range", rng(1, 3)), ("type", "mp4")], 400, "mp4 type has been disabled"),
        ([("range", rng(1, 3)), ("type", "avi")], 400, "Unknown type"),
        ([("range", rng(1, 3)), ("type", "fast"), ("type", "smart")], 400, "more than once"),
        ([("range", rng(1, 3)), ("allow_holes", "maybe")], 400, "allow_holes must be one of"),
        ([("range", rng(39, 43))], 406, "holes"),
        ([("range", f"1970-01-01T00:00:00,{at(1)}")], 400, "may not be longer than 24 hours"),
        ([("range", f"0001-01-01T00:00:00,{at(1)}")], 400, "out of range"),
        ([("range", rng(1, 3)), ("range", rng(5, 7)), ("transition", "fade,inf")], 400, "positive"),
        ([("range", rng(3000, 3010)), ("allow_holes", "true")], 406, "no content"),
        (
            [
                ("range", rng(30, 41)),
                ("range", rng(42, 50)),
                ("transition", "fade,1"),
                ("allow_holes", "true"),
            ],
            400,
            "missing footage",
        ),
    ],
)
async def test_bad_requests_are_refused_before_streaming(store, make_client, params, status, reason):
    client = await make_client(store)
    response = await client.get(URL, params=params)
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "text/plain"
    assert reason.lower() in text.lower()
    assert text.count("\n") == 1


async def test_unknown_quality_is_404(store, make_client):
    client = await make_client(store)
    response = await client.get("/cut/chan/nosuch.ts", params={"range": rng(1, 3)})
    assert response.status == 404


async def test_holes_closed_up_when_allowed(store, make_client, tmp_path):
    client = await make_client(store)
    response = await client.get(URL, params={"range": rng(39, 43.5), "type": "smart", "allow_holes": "TRUE"})
    assert response.status == 200, await response.text()
    out = tmp_path / "holes.ts"
    out.write_bytes(await response.read())
    got = packets(out)
    assert got.frames == first_frame_index(43.5) - first_frame_index(39) - 2 * FPS
    assert abs(got.duration - (4.5 - 2)) <= 1 / FPS + 1e-9


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_rough_cut_is_the_covering_files_back_to_back(store, make_client, method):
    """Sent zero-copy with an exact Content-Length: every covering file whole, in order, the hole skipped."""
    client = await make_client(store)
    params = {"range": rng(37.5, 45.1), "type": "rough", "allow_holes": "TRUE"}
    response = await client.request(method, URL, params=params)
    assert response.status == 200, await response.text()
    chain = SegmentIndex(store).best_segments("chan", "source", STORE_START + timedelta(seconds=37.5),
                                              STORE_START + timedelta(seconds=45.1))  # fmt: skip
    assert None in chain
    expected = b"".join(Path(seg.path).read_bytes() for seg in chain if seg is not None)
    assert int(response.headers["Content-Length"]) == len(expected) > 0
    assert await response.read() == (expected if method == "GET" else b"")


async def test_client_disconnect_kills_ffmpeg(store, make_client):
    client = await make_client(store)
    params = [
        ("range", rng(1.3, 38.7)),
        ("range", rng(44.1, 58.3)),
        ("transition", "dissolve,1"),
        ("type", "full"),
    ]
    response = await client.get(URL, params=params)
    assert response.status == 200
    assert await response.content.readany()
    response.close()
    deadline = time.monotonic() + 60  # bounds a hang only: ffmpeg is reaped late under load
    while _ffmpeg_children() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _ffmpeg_children() == []


async def test_failure_after_streaming_started_truncates_the_body(tmp_path, clip, make_client):
    # Segment 10 (20-22 s) holds bytes that are not MPEG-TS: found only when the copy reaches it.
    paths = store_clip(tmp_path, clip, STORE_START, skip=frozenset({10}))
    write_segment(tmp_path, STORE_START + timedelta(seconds=20), 2.0, content=b"not a transport stream" * 100)
    assert len(paths) == 29
    client = await make_client(tmp_path)
    response = await client.get(URL, params={"range": rng(1.3, 30.7), "type": "smart"})
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


def test_disconnect_mid_cut_logs_no_error_on_a_real_process(store, tmp_path, components):
    port = free_port()
    restreamer = start_component(
        ["restreamer", "--base-dir", str(store), "--port", str(port)], tmp_path / "logs", port=port
    )
    components.append(restreamer)
    query = urllib.parse.urlencode({"range": rng(1.3, 58.3), "type": "full", "allow_holes": "true"})
    with urllib.request.urlopen(f"{restreamer.url}{URL}?{query}", timeout=60) as response:
        assert response.status == 200
        assert response.read(1000)
    deadline = time.monotonic() + 60
    while _ffmpeg_children(restreamer.process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ffmpeg_children(restreamer.process.pid) == []
    with urllib.request.urlopen(f"{restreamer.url}/files", timeout=30) as response:
        assert response.status == 200  # the server is fine, and everything it logged is in the file
    log = restreamer.log()
    assert "Traceback" not in log
    assert " ERROR " not in log
