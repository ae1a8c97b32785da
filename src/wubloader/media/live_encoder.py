"""A real-time synthetic live HLS source: ffmpeg test pattern + tone into a live playlist (no HTTP here).

Used by the downloader's tests and by `wubloader node --demo`. Segments are H.264 (no B-frames) +
AAC in MPEG-TS with a keyframe at every segment start, and the playlist carries wall-clock
`EXT-X-PROGRAM-DATE-TIME`, like a real live stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from wubloader.media.process import start_media_process

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

PLAYLIST_NAME = "index.m3u8"
GRACEFUL_STOP_SECONDS = 5.0


class LiveEncoder:
    """Encodes a live stream into `directory` until stopped.

    `window` is the playlist length in segments (0 = keep every segment listed, as a test's ground
    truth). `delete_segments` removes files that left the window. Segment numbers start at the Unix
    time of start-up, so a restarted encoder never overwrites an earlier run's files.
    """

    def __init__(
        self,
        directory: Path,
        *,
        segment_seconds: int = 2,
        size: str = "320x180",
        fps: int = 25,
        window: int = 6,
        delete_segments: bool = True,
        video_bitrate: str | None = None,
        ffmpeg: str = "ffmpeg",
    ) -> None:
        if segment_seconds <= 0 or fps <= 0 or window < 0:
            raise ValueError("segment_seconds and fps must be positive, window non-negative")
        self.directory = directory
        self.segment_seconds = segment_seconds
        self.size = size
        self.fps = fps
        self.window = window
        self.delete_segments = delete_segments
        self.video_bitrate = video_bitrate
        self.ffmpeg = ffmpeg

    @property
    def playlist_path(self) -> Path:
        return self.directory / PLAYLIST_NAME

    def arguments(self) -> list[str]:
        """The ffmpeg command line (the encoder reads `q` on stdin to stop and write ENDLIST)."""
        gop = str(self.fps * self.segment_seconds)
        flags = "program_date_time+temp_file" + ("+delete_segments" if self.delete_segments else "")
        rate = self.video_bitrate
        rate_args = ["-b:v", rate, "-maxrate", rate, "-bufsize", rate] if rate is not None else []
        return [
            self.ffmpeg, "-hide_banner", "-loglevel", "error",
            "-re", "-f", "lavfi", "-i", f"testsrc2=size={self.size}:rate={self.fps}",
            "-re", "-f", "lavfi", "-i", "sine=frequency=440:beep_factor=4:sample_rate=48000",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            *rate_args,
            "-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0",
            "-force_key_frames", f"expr:gte(t,n_forced*{self.segment_seconds})",
            "-c:a", "aac", "-b:a", "64k", "-ac", "2",
            "-f", "hls", "-hls_time", str(self.segment_seconds), "-hls_list_size", str(self.window),
            "-hls_flags", flags, "-hls_start_number_source", "epoch",
            "-hls_segment_filename", str(self.directory / "seg%d.ts"),
            str(self.playlist_path),
        ]  # fmt: skip

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Encode until `stop` is set (graceful: the playlist gets ENDLIST) or cancelled (killed at once).

        Raises FfmpegFailed if ffmpeg exits on its own with an error.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        stop = stop if stop is not None else asyncio.Event()
        async with start_media_process(self.arguments(), stdin=True, stdout=False) as encoder:
            stopper = asyncio.ensure_future(stop.wait())
            exited = asyncio.ensure_future(encoder.wait_ok())
            try:
                await asyncio.wait([stopper, exited], return_when=asyncio.FIRST_COMPLETED)
                if exited.done():
                    await exited  # ffmpeg stopped by itself: raise its error
                    return
                encoder.stdin.write(b"q")
                with contextlib.suppress(ConnectionError):
                    await encoder.stdin.drain()
                try:
                    async with asyncio.timeout(GRACEFUL_STOP_SECONDS):
                        await exited
                except TimeoutError:
                    logger.warning("live encoder ignored q for %.0f s; killing it", GRACEFUL_STOP_SECONDS)
            finally:
                stopper.cancel()
                if not exited.done():
                    exited.cancel()
