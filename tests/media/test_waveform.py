"""render_waveform: a PNG of the requested size showing the audio of segments played back to back."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.harness.media import write_clip_segments
from wubloader.media.errors import FfmpegFailed
from wubloader.media.waveform import render_waveform

pytestmark = pytest.mark.ffmpeg


async def test_waveform_size_and_content(tmp_path, clip):
    paths = write_clip_segments(tmp_path, clip, range(4))
    png = await render_waveform(paths, 300, 40, time_limit=60)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (300, 40)
    alpha = image.convert("RGBA").getchannel("A")
    drawn = sum(alpha.histogram()[1:])
    assert 0 < drawn < 300 * 40  # the tone is drawn, not a blank or full image


async def test_concatenation_is_what_is_drawn(tmp_path, clip):
    """Two files back to back draw the same as one file holding both (holes are simply left out)."""
    a, b = write_clip_segments(tmp_path, clip, [2, 5])
    joined = tmp_path / "joined.ts"
    joined.write_bytes(clip.segments[2] + clip.segments[5])
    assert await render_waveform([a, b], 128, 32, time_limit=60) == await render_waveform(
        [str(joined)], 128, 32, time_limit=60
    )


async def test_garbage_input_fails_cleanly(tmp_path):
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"not media" * 100)
    with pytest.raises(FfmpegFailed):
        await render_waveform([str(junk)], 10, 10, time_limit=60)
    with pytest.raises(ValueError):
        await render_waveform([], 10, 10, time_limit=60)
