"""ffprobe of a segment: the stream facts cuts need (codecs, frame rate, size) and matching encoder args."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from wubloader.media.errors import UnsupportedMedia
from wubloader.media.process import run_media_command

PROBE_TIME_LIMIT = 30.0

# Decoder name (as ffprobe reports it) -> an encoder producing the same codec.
VIDEO_ENCODERS = {"h264": "libx264", "hevc": "libx265", "mpeg2video": "mpeg2video", "vp9": "libvpx-vp9"}
AUDIO_ENCODERS = {"aac": "aac", "mp3": "libmp3lame", "opus": "libopus", "ac3": "ac3", "mp2": "mp2"}


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaInfo:
    """Facts about a segment's first video and audio streams."""

    video_codec: str
    frame_rate: Fraction
    width: int
    height: int
    pix_fmt: str
    has_b_frames: int
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    audio_bit_rate: int | None = None

    @property
    def frame_seconds(self) -> float:
        return float(1 / self.frame_rate)

    @property
    def frame_ticks(self) -> int:
        """One frame in 90 kHz ticks (rounded)."""
        return round(90_000 / self.frame_rate)


def _rate(text: str | None) -> Fraction | None:
    """A positive frame rate from ffprobe's `N/D` text; None for `0/0`, missing or junk."""
    num, _, den = (text or "").partition("/")
    try:
        rate = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


def parse_probe(document: dict[str, Any]) -> MediaInfo:
    """MediaInfo from `ffprobe -show_streams -of json` output; UnsupportedMedia without video."""
    streams = document.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None:
        raise UnsupportedMedia("segment has no video stream")
    rate = _rate(video.get("r_frame_rate")) or _rate(video.get("avg_frame_rate"))
    if rate is None:
        raise UnsupportedMedia("segment has no usable frame rate")
    return MediaInfo(
        video_codec=video["codec_name"],
        frame_rate=rate,
        width=int(video.get("width", 0)),
        height=int(video.get("height", 0)),
        pix_fmt=video.get("pix_fmt") or "yuv420p",
        has_b_frames=int(video.get("has_b_frames", 0)),
        audio_codec=audio["codec_name"] if audio else None,
        sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        channels=int(audio["channels"]) if audio and audio.get("channels") else None,
        audio_bit_rate=int(audio["bit_rate"]) if audio and audio.get("bit_rate") else None,
    )


async def probe_segment(path: str, *, time_limit: float = PROBE_TIME_LIMIT) -> MediaInfo:
    """ffprobe one segment file. Raises FfmpegFailed/FfmpegTimeout or UnsupportedMedia."""
    out = await run_media_command(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", f"file:{path}"], time_limit=time_limit
    )
    return parse_probe(json.loads(out))


def video_encoder_args(
    info: MediaInfo, *, quality: tuple[str, ...] = ("-preset", "veryfast", "-crf", "18")
) -> list[str]:
    """Encoder args giving the same codec, size and pixel format as the source, without B-frames.

    No B-frames keeps every re-encoded frame's DTS equal to its PTS (the cut shifts DTS itself to match
    the source's reorder delay), and one GOP per piece so each piece starts with a keyframe.
    """
    encoder = VIDEO_ENCODERS.get(info.video_codec)
    if encoder is None:
        raise UnsupportedMedia(f"cannot re-encode video codec {info.video_codec!r}")
    args = ["-c:v", encoder, "-pix_fmt", info.pix_fmt, "-bf", "0", "-g", "100000"]
    if encoder in ("libx264", "libx265"):
        args += list(quality)
    return args


def audio_encoder_args(info: MediaInfo) -> list[str]:
    """Encoder args for the same audio codec, rate and channel count as the source."""
    if info.audio_codec is None:
        return []
    encoder = AUDIO_ENCODERS.get(info.audio_codec)
    if encoder is None:
        raise UnsupportedMedia(f"cannot re-encode audio codec {info.audio_codec!r}")
    args = ["-c:a", encoder]
    if info.sample_rate:
        args += ["-ar", str(info.sample_rate)]
    if info.channels:
        args += ["-ac", str(info.channels)]
    if info.audio_bit_rate:
        args += ["-b:a", str(info.audio_bit_rate)]
    return args
