"""`/waveform` and `/frame` through the real app over a store of real media."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from wubloader.media.frame import extract_frame
from wubloader.media.waveform import render_waveform
from wubloader.restreamer.state import STATE

pytestmark = pytest.mark.ffmpeg
FMT = "%Y-%m-%dT%H:%M:%S.%f"


def at(seconds: float) -> str:
    return f"{STORE_START + timedelta(seconds=seconds):{FMT}}"


async def test_waveform_skips_holes(tmp_path, clip, make_client):
    paths = store_clip(tmp_path, clip, STORE_START, skip=frozenset({2}))
    client = await make_client(tmp_path)
    response = await client.get(
        "/waveform/chan/source.png", params={"start": at(0), "end": at(10), "size": "200x30"}
    )
    assert response.status == 200 and response.content_type == "image/png"
    body = await response.read()
    # Segments 0, 1, 3, 4 (the hole at 4-6 s is left out).
    expected = await render_waveform([str(p) for p in paths[:4]], 200, 30, time_limit=60)
    assert body == expected
    assert Image.open(io.BytesIO(body)).size == (200, 30)


async def test_waveform_limits(tmp_path, clip, make_client):
    store_clip(tmp_path, clip, STORE_START)
    client = await make_client(tmp_path)
    cases = {
        (at(0), at(10), "4097x10"): 400,
        (at(0), at(6 * 3600 + 1), "10x10"): 400,
        (at(10), at(0), "10x10"): 400,
        (at(100), at(110), "10x10"): 406,
    }
    for (start, end, size), status in cases.items():
        response = await client.get(
            "/waveform/chan/source.png", params={"start": start, "end": end, "size": size}
        )
        assert response.status == status, (start, end, size)


async def test_frame_at_instant(tmp_path, clip, make_client):
    paths = store_clip(tmp_path, clip, STORE_START, skip=frozenset({5}))
    client = await make_client(tmp_path)
    response = await client.get("/frame/chan/source.png", params={"timestamp": at(6.52)})
    assert response.status == 200 and response.content_type == "image/png"
    expected = await extract_frame([str(paths[3]), str(paths[4])], 0.52, time_limit=60)
    assert await response.read() == expected
    hole = await client.get("/frame/chan/source.png", params={"timestamp": at(10.5)})
    assert hole.status == 406
    assert (await client.get("/frame/chan/source.png", params={"timestamp": at(600)})).status == 406


async def test_media_jobs_are_bounded(tmp_path, clip, make_client):
    store_clip(tmp_path, clip, STORE_START)
    client = await make_client(tmp_path, max_media_jobs=1, media_time_limit=0.3)
    state = client.server.app[STATE]
    params = {"timestamp": at(1)}
    async with state.media_slot():  # someone else's ffmpeg holds the only slot
        response = await client.get("/frame/chan/source.png", params=params)
        assert response.status == 503
        assert await response.text() == "too many media requests in progress; retry later\n"
        assert response.headers["Retry-After"] == "5"
    assert (state.media.running, state.media.waiting) == (0, 0)  # a refused request took no slot with it
