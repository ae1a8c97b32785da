"""Errors raised by media work (ffmpeg/ffprobe and cut planning).

    WubloaderError
    └── MediaError
        ├── FfmpegFailed(returncode, stderr_tail)
        └── FfmpegTimeout
"""

from wubloader.errors import WubloaderError


class MediaError(WubloaderError):
    """Media could not be probed, cut or rendered."""


class FfmpegFailed(MediaError):
    """ffmpeg/ffprobe exited non-zero; `stderr_tail` holds its last lines for the log."""

    def __init__(self, command: str, returncode: int, stderr_tail: str) -> None:
        super().__init__(f"{command} exited {returncode}: {stderr_tail.strip()[-500:]}")
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class FfmpegTimeout(MediaError):
    """ffmpeg/ffprobe ran past its deadline and was killed."""
