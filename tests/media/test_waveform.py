"""render_waveform: a PNG of the requested size showing the audio of segments played back to back;
the peak levels per 50 ms the editor draws its strip from."""

from __future__ import annotations

import array
import io
import math
import statistics
import sys

import pytest
from PIL import Image

from tests.harness.media import write_clip_segments
from wubloader.media.errors import FfmpegFailed
from wubloader.media.waveform import (
    DECODE_RATE,
    NO_AUDIO,
    PEAK_LEVELS,
    PEAKS_PER_SECOND,
    PeakReader,
    audio_peaks,
    fill_peaks,
    peak_level,
    render_waveform,
)

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


def pcm(*samples: int) -> bytes:
    """s16le bytes, as ffmpeg writes them."""
    values = array.array("h", samples)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tobytes()


SAMPLES_PER_BIN = DECODE_RATE // PEAKS_PER_SECOND


def test_fill_peaks_places_each_bin_by_wall_time():
    # 1 s of silence, then 1 s at half scale, starting 2 s after bin 0.
    bins = bytearray([NO_AUDIO]) * 100
    fill_peaks(pcm(*[0] * DECODE_RATE, *[16384, -16384] * (DECODE_RATE // 2)), 2.0, bins)
    half = round(PEAK_LEVELS * math.sqrt(0.5))
    assert bins == bytearray([NO_AUDIO] * 40 + [0] * 20 + [half] * 20 + [NO_AUDIO] * 20)


def test_fill_peaks_keeps_the_louder_level_where_runs_meet_and_drops_what_is_outside():
    bins = bytearray([NO_AUDIO]) * 4
    fill_peaks(pcm(*[32767] * SAMPLES_PER_BIN), 0.0, bins)
    fill_peaks(pcm(*[100] * SAMPLES_PER_BIN * 9), 0.0, bins)  # quieter, and longer than the bins
    assert bins == bytearray([PEAK_LEVELS, peak_level([100]), peak_level([100]), peak_level([100])])
    assert peak_level([-32768]) == PEAK_LEVELS


@pytest.mark.parametrize("offset", [0.0, 1.2345678, 7.0316])
def test_peaks_fed_in_pieces_equal_peaks_of_the_whole(offset):
    # A swelling, alternating-sign signal: every bin's peak differs, so a sample put in the wrong
    # bin at a piece's edge would show.
    samples = [(i * 7 % 32768) * (1 if i % 2 else -1) for i in range(DECODE_RATE * 3 + 123)]
    whole = bytearray([NO_AUDIO]) * 250
    fill_peaks(pcm(*samples), offset, whole)
    pieces = bytearray([NO_AUDIO]) * 250
    reader, data, at = PeakReader(offset, pieces), pcm(*samples), 0
    for size in (1, 799, 800, 4097, 3, 65536):
        reader.feed(data[at : at + size])
        at += size
    reader.finish()
    assert at >= len(data) and pieces == whole and NO_AUDIO not in whole[math.ceil(offset * 20) : 60]


async def test_audio_peaks_of_real_segments(tmp_path, clip):
    paths = write_clip_segments(tmp_path, clip, range(5))  # 10 s
    bins = bytearray([NO_AUDIO]) * 300
    await audio_peaks(paths, 1.0, bins, time_limit=60)
    # Audio from 1 s to 11 s (AAC pads the last frame: at most one bin more), nothing before.
    assert bins[:20] == bytearray([NO_AUDIO]) * 20 and bins[221:] == bytearray([NO_AUDIO]) * 79
    levels = list(bins[20:220])
    assert NO_AUDIO not in levels
    # The clip's steady tone (level ~76) with a louder beep every second (level ~140).
    assert 70 <= statistics.median(levels) <= 82
    assert sum(level > 120 for level in levels) >= 10 * 2
