"""extract_frame: the exact decoded frame at an instant (not the keyframe before it)."""

from __future__ import annotations

import io
import math
import subprocess

import pytest
from PIL import Image, ImageChops

from tests.harness.media import FPS, write_clip_segments
from wubloader.media.frame import NoFrame, extract_frame

pytestmark = pytest.mark.ffmpeg


def reference_frame(path: str, number: int) -> Image.Image:
    """Frame `number` of a file, decoded by ffmpeg with the select filter."""
    png = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-vf", f"select=eq(n\\,{number})", "-frames:v", "1",
         "-f", "image2", "-c:v", "png", "pipe:1"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    return Image.open(io.BytesIO(png)).convert("RGB")


@pytest.mark.parametrize("offset", [0.0, 0.52, 1.0, 1.3])
async def test_frame_is_the_exact_frame(tmp_path, clip, offset):
    (path,) = write_clip_segments(tmp_path, clip, [3])
    image = Image.open(io.BytesIO(await extract_frame([path], offset, time_limit=60))).convert("RGB")
    assert image.size == (320, 180)
    number = math.ceil(offset * FPS - 1e-6)  # the first frame at or after the instant: within a frame
    assert ImageChops.difference(image, reference_frame(path, number)).getbbox() is None


async def test_instant_in_the_last_frame_interval_uses_the_next_segment(tmp_path, clip):
    paths = write_clip_segments(tmp_path, clip, [3, 4])
    png = await extract_frame(paths, 1.99, time_limit=60)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert ImageChops.difference(image, reference_frame(paths[1], 0)).getbbox() is None


async def test_no_frame_past_the_end(tmp_path, clip):
    paths = write_clip_segments(tmp_path, clip, [3])
    with pytest.raises(NoFrame):
        await extract_frame(paths, 5.0, time_limit=60)


async def test_bad_arguments():
    with pytest.raises(ValueError):
        await extract_frame([], 0.0, time_limit=5)
    with pytest.raises(ValueError):
        await extract_frame(["x"], -1.0, time_limit=5)
