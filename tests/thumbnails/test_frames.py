"""A frame at an instant from a real store (media/ decodes it)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from wubloader.store.selection import SegmentIndex
from wubloader.thumbnails.errors import NoFrameAt
from wubloader.thumbnails.frames import frame_at

pytestmark = pytest.mark.ffmpeg


async def test_frame_inside_and_outside_the_store(tmp_path, clip):
    store_clip(tmp_path, clip, STORE_START)
    index = SegmentIndex(tmp_path)
    image = await frame_at(index, "chan", "source", STORE_START + timedelta(seconds=3.3), time_limit=30)
    assert Image.open(io.BytesIO(image)).format == "PNG"
    with pytest.raises(NoFrameAt):
        await frame_at(index, "chan", "source", STORE_START - timedelta(seconds=30), time_limit=30)
