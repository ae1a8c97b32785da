"""Errors raised by media work (ffmpeg/ffprobe and cut planning).

WubloaderError
└── MediaError
    ├── FfmpegFailed(returncode, stderr_tail)
    ├── FfmpegTimeout
    ├── UnsupportedMedia             the segments cannot be cut this way (not MPEG-TS, no video...)
    └── BadCut (also ValueError)     a cut request is invalid; raised before any byte is produced
        ├── BadRange                 ranges unordered, empty or overlapping
        ├── BadTransition            wrong count, unknown name, bad or too long duration
        └── TransitionOverHole       a transition window would span a hole
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


class UnsupportedMedia(MediaError):
    """The segments cannot be cut with the requested type (e.g. smart/fast need MPEG-TS with video)."""


class BadCut(MediaError, ValueError):
    """A cut request is invalid; always raised before the first output byte (HTTP 400)."""


class BadRange(BadCut):
    """Ranges must be non-empty (end after start) and in order without overlapping."""


class BadTransition(BadCut):
    """Transition count must be ranges - 1, names known, durations positive and shorter than both ranges."""


class TransitionOverHole(BadCut):
    """A transition window (or a frame-exact edge) falls on missing footage."""
