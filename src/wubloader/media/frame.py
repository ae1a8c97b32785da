"""One decoded video frame of a segment at a given offset, as PNG."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from wubloader.media.errors import MediaError
from wubloader.media.process import run_media_command

if TYPE_CHECKING:
    from collections.abc import Sequence


class NoFrame(MediaError):
    """The segments hold no video frame at or after the requested offset."""


def frame_command(offset: float) -> list[str]:
    """ffmpeg decoding stdin and keeping the first frame at or after `offset` seconds into it.

    `-ss` after `-i` decodes and discards up to the offset, so the frame is exact (not the keyframe
    before it), at most one frame interval after the instant.
    """
    return [
        "ffmpeg", "-hide_banner", "-nostats", "-v", "error",
        "-i", "pipe:0",
        "-ss", f"{offset:.6f}", "-map", "0:v:0",
        "-frames:v", "1", "-f", "image2", "-c:v", "png", "pipe:1",
    ]  # fmt: skip


def _read_all(paths: Sequence[str]) -> bytes:
    chunks = []
    for path in paths:
        with open(path, "rb") as file:
            chunks.append(file.read())
    return b"".join(chunks)


async def extract_frame(paths: Sequence[str], offset: float, *, time_limit: float) -> bytes:
    """PNG of the frame shown `offset` seconds after the start of `paths` played back to back.

    Pass the segment holding the instant and, if there is one, the next contiguous segment, so an
    instant inside the last frame interval of a segment still finds a frame. Raises ValueError for
    no paths or a negative offset, NoFrame if nothing decodes there, FfmpegFailed/FfmpegTimeout.
    """
    if not paths or offset < 0:
        raise ValueError("need at least one segment and a non-negative offset")
    data = await asyncio.to_thread(_read_all, paths)
    image = await run_media_command(frame_command(offset), time_limit=time_limit, input=data)
    if not image:
        raise NoFrame(f"no video frame at {offset:.3f}s")
    return image
