"""Audio waveforms of a run of segments: PNG images (ffmpeg's `showwavespic`) and peak levels per 50 ms."""

from __future__ import annotations

import array
import math
import sys
from typing import TYPE_CHECKING

from wubloader.media.errors import MediaError
from wubloader.media.process import read_files, run_media_command

if TYPE_CHECKING:
    from collections.abc import Sequence

WAVEFORM_COLOUR = "black"


def waveform_command(width: int, height: int) -> list[str]:
    """ffmpeg reading concatenated MPEG-TS on stdin, writing one PNG of the first audio stream."""
    graph = f"[0:a:0]showwavespic=s={width}x{height}:colors={WAVEFORM_COLOUR}:scale=sqrt[wave]"
    return [
        "ffmpeg", "-hide_banner", "-nostats", "-v", "error",
        "-i", "pipe:0",
        "-filter_complex", graph, "-map", "[wave]",
        "-frames:v", "1", "-f", "image2", "-c:v", "png", "pipe:1",
    ]  # fmt: skip


async def render_waveform(paths: Sequence[str], width: int, height: int, *, time_limit: float) -> bytes:
    """PNG bytes of the audio waveform of `paths` played back to back (holes already left out).

    Raises ValueError for no paths or a non-positive size, FfmpegFailed/FfmpegTimeout from ffmpeg,
    MediaError if ffmpeg produced no image.
    """
    if not paths or width < 1 or height < 1:
        raise ValueError("need at least one segment and a positive size")
    image = await run_media_command(
        waveform_command(width, height), time_limit=time_limit, input=read_files(paths)
    )
    if not image:
        raise MediaError("ffmpeg produced no waveform image")
    return image


# Audio peaks: what the editor draws its waveform strip from. The restreamer keeps them per hour
# (computed once, see restreamer/peaks_cache.py), so a 2-hour strip costs no decoding once seen.
PEAKS_PER_SECOND = 20
NO_AUDIO = 255  # a bin with no audio at all (a hole); levels are 0..PEAK_LEVELS
PEAK_LEVELS = 254
DECODE_RATE = 8000  # mono samples per second decoded for peaks: plenty for a 50 ms bin's loudness
_FULL_SCALE = 32768


def pcm_command() -> list[str]:
    """ffmpeg reading concatenated MPEG-TS on stdin, writing its first audio stream as mono s16le PCM."""
    return [
        "ffmpeg", "-hide_banner", "-nostats", "-v", "error", "-i", "pipe:0",
        "-map", "0:a:0", "-ac", "1", "-ar", str(DECODE_RATE), "-f", "s16le", "pipe:1",
    ]  # fmt: skip


def peak_level(samples: Sequence[int]) -> int:
    """The loudest sample of a bin on a square-root scale (quiet speech stays visible), 0..PEAK_LEVELS."""
    if not samples:
        return NO_AUDIO
    peak = min(_FULL_SCALE, max(max(samples), -min(samples)))
    return round(PEAK_LEVELS * math.sqrt(peak / _FULL_SCALE))


def fill_peaks(pcm: bytes | memoryview, offset: float, bins: bytearray) -> None:
    """Write the peak levels of `pcm` (mono s16le at DECODE_RATE, starting `offset` seconds after bin
    0's start) into `bins` (PEAKS_PER_SECOND per second). Samples outside `bins` are dropped; a bin
    already holding a level keeps the louder of the two (runs that meet share their edge bin)."""
    even = memoryview(pcm)[: len(pcm) // 2 * 2]
    samples: Sequence[int] = even.cast("h")  # no copy of the PCM (minutes of it are megabytes)
    if sys.byteorder == "big":
        swapped = array.array("h", even)
        swapped.byteswap()
        samples = swapped
    per_bin = DECODE_RATE / PEAKS_PER_SECOND
    first = max(0, math.floor(offset * PEAKS_PER_SECOND))
    last = min(len(bins), math.ceil((offset + len(samples) / DECODE_RATE) * PEAKS_PER_SECOND))
    for index in range(first, last):
        begin = max(0, round(index * per_bin - offset * DECODE_RATE))
        level = peak_level(samples[begin : max(begin, round((index + 1) * per_bin - offset * DECODE_RATE))])
        if level != NO_AUDIO and (bins[index] == NO_AUDIO or bins[index] < level):
            bins[index] = level


async def audio_peaks(paths: Sequence[str], offset: float, bins: bytearray, *, time_limit: float) -> None:
    """Decode `paths` (a run without holes, played back to back, starting `offset` s after bin 0) and
    fill their peaks into `bins` (see fill_peaks). FfmpegFailed/FfmpegTimeout from ffmpeg. The PCM
    is taken in as ffmpeg writes it, a bin's worth of samples at a time, never held whole."""
    if not paths:
        raise ValueError("need at least one segment")
    reader = PeakReader(offset, bins)
    command = pcm_command()
    await run_media_command(command, time_limit=time_limit, input=read_files(paths), consume=reader.feed)
    reader.finish()


class PeakReader:
    """`fill_peaks` over PCM arriving in pieces: each piece is cut at a whole number of bins' samples,
    so every sample lands in the bin it would have had in one call over the whole PCM."""

    _ALIGN = 2 * DECODE_RATE // PEAKS_PER_SECOND  # bytes of one bin's samples

    def __init__(self, offset: float, bins: bytearray) -> None:
        self.offset = offset
        self.bins = bins
        self._samples = 0
        self._rest = b""

    def feed(self, chunk: bytes) -> None:
        data = self._rest + chunk if self._rest else chunk
        usable = len(data) // self._ALIGN * self._ALIGN
        self._rest = data[usable:]
        if usable:
            fill_peaks(memoryview(data)[:usable], self.offset + self._samples / DECODE_RATE, self.bins)
            self._samples += usable // 2

    def finish(self) -> None:
        if self._rest:
            fill_peaks(self._rest, self.offset + self._samples / DECODE_RATE, self.bins)
            self._rest = b""
