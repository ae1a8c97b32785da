"""Audio waveform images of a run of segments, rendered by ffmpeg's `showwavespic` as PNG."""

from __future__ import annotations

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
