"""`/thumbnail`: bare frames, template composition from the node's database, clear 4xx errors."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from tests.thumbnails.templates import add_test_template
from wubloader.db.database import Database
from wubloader.restreamer.app import RestreamerConfig, create_app

pytestmark = pytest.mark.ffmpeg
WHEN = (STORE_START + timedelta(seconds=7.5)).isoformat()


@pytest.fixture
async def client(tmp_path, clip):
    store_clip(tmp_path / "store", clip, STORE_START)
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    database.upgrade()
    add_test_template(database)
    app = create_app(RestreamerConfig(base_dir=tmp_path / "store"), templates_db=database)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client
    database.close()


async def image(response) -> Image.Image:
    assert response.status == 200, await response.text()
    assert response.content_type == "image/png"
    return Image.open(io.BytesIO(await response.read()))


async def test_bare_frame_and_template(client):
    bare = await image(await client.get("/thumbnail/chan/source.png", params={"timestamp": WHEN}))
    assert bare.size == (320, 180)
    composed = await image(
        await client.get("/thumbnail/chan/source.png", params={"timestamp": WHEN, "template": "green"})
    )
    assert composed.size == (128, 72)
    rgba = composed.convert("RGBA")
    assert rgba.getpixel((10, 60)) == (0, 255, 0, 255)  # the template
    assert rgba.getpixel((96, 18))[:3] != (0, 255, 0)  # the frame shows through the window
    cropped = await image(await client.get("/thumbnail/chan/source.png", params={
        "timestamp": WHEN, "template": "green", "crop": "160,90,320,180", "location": "0,0,128,72"}))  # fmt: skip
    assert cropped.convert("RGBA").getpixel((10, 60)) == (0, 255, 0, 255)


@pytest.mark.parametrize(
    "params, status, text",
    [
        ({"timestamp": WHEN, "template": "nope"}, 404, "no thumbnail template named 'nope'"),
        ({"timestamp": WHEN, "template": "green", "crop": "1,2,3"}, 400, "four integers"),
        ({"timestamp": WHEN, "template": "green", "crop": "0,0,999,90"}, 400, "outside"),
        ({"timestamp": WHEN, "crop": "0,0,10,10"}, 400, "need a template"),
        ({"timestamp": "2024-05-01T09:00:00"}, 406, "no content"),
        ({"timestamp": "yesterday"}, 400, ""),
    ],
)
async def test_errors(client, params, status, text):
    response = await client.get("/thumbnail/chan/source.png", params=params)
    assert response.status == status
    assert text in await response.text()


async def test_template_needs_a_database(tmp_path, clip):
    store_clip(tmp_path / "store", clip, STORE_START)
    app = create_app(RestreamerConfig(base_dir=tmp_path / "store"))
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        response = await test_client.get(
            "/thumbnail/chan/source.png", params={"timestamp": WHEN, "template": "x"}
        )
        assert response.status == 404 and "no template database" in await response.text()
