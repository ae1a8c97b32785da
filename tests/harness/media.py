"""Small real media for tests: H.264/AAC HLS clips encoded once per session with ffmpeg."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from wubloader.store import SegmentType, format_duration, hash_bytes, segment_path

FPS = 25
SEGMENT_SECONDS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Clip:
    """An encoded HLS clip: its segment files (init section prepended for fMP4) and EXTINF durations."""

    directory: Path
    segments: list[bytes]
    durations: list[float]
    bframes: bool
    fmp4: bool

    @property
    def total_seconds(self) -> float:
        return sum(self.durations)


def encode_clip(
    directory: Path,
    seconds: int,
    *,
    bframes: bool = False,
    fmp4: bool = False,
    size: str = "320x180",
    rate: int = FPS,
    audio: bool = True,
    video_codec: str = "libx264",
) -> Clip:
    """Encode a numbered test pattern + tone into 2 s HLS segments with a keyframe at every segment start.

    A low `rate`, a tiny `size` and no `audio` make hours of media cheap to encode and to cut;
    `video_codec` libx265 gives an HEVC clip (twitch's enhanced-broadcast sources).
    """
    directory.mkdir(parents=True, exist_ok=True)
    playlist = directory / "index.m3u8"
    ext = "m4s" if fmp4 else "ts"
    tone = f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={seconds}"
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
        *(("-f", "lavfi", "-i", tone, "-c:a", "aac", "-b:a", "64k", "-ac", "2") if audio else ()),
        "-c:v", video_codec, "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-g", str(rate * SEGMENT_SECONDS), "-keyint_min", str(rate * SEGMENT_SECONDS), "-sc_threshold", "0",
        "-bf", "2" if bframes else "0",
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_list_size", "0",
        "-hls_segment_type", "fmp4" if fmp4 else "mpegts",
        "-hls_segment_filename", str(directory / f"seg%05d.{ext}"),
        str(playlist),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=300)
    return read_clip(directory, bframes=bframes, fmp4=fmp4)


def loop_clip(directory: Path, clip: Clip, times: int) -> Clip:
    """`clip` played `times` times in a row with continuous timestamps, as a long live stream would be
    (stored copies of one clip would jump back in time). Copies, never re-encodes: fast for hours."""
    directory.mkdir(parents=True, exist_ok=True)
    once = directory / "once.ts"
    once.write_bytes(b"".join(clip.segments))
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", str(times - 1), "-i", str(once),
        "-c", "copy", "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_list_size", "0",
        "-hls_segment_filename", str(directory / "seg%05d.ts"), str(directory / "index.m3u8"),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=600)
    once.unlink()
    return read_clip(directory, bframes=clip.bframes, fmp4=False)


def read_clip(directory: Path, *, bframes: bool, fmp4: bool) -> Clip:
    text = (directory / "index.m3u8").read_text()
    init = b""
    map_match = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text)
    if map_match:
        init = (directory / map_match.group(1)).read_bytes()
    durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", text)]
    names = [line for line in text.splitlines() if line and not line.startswith("#")]
    segments = [init + (directory / name).read_bytes() for name in names]
    return Clip(directory=directory, segments=segments, durations=durations, bframes=bframes, fmp4=fmp4)


def store_clip(
    base: Path,
    clip: Clip,
    start: datetime,
    *,
    channel: str = "chan",
    quality: str = "source",
    repeat: int = 1,
    skip: frozenset[int] = frozenset(),
) -> list[Path]:
    """Store the clip's segments back to back from `start` (repeated `repeat` times), as a downloader would."""
    paths = []
    when = start
    index = 0
    for _ in range(repeat):
        for data, duration in zip(clip.segments, clip.durations, strict=True):
            if index not in skip:
                path = segment_path(
                    base,
                    channel,
                    quality,
                    when,
                    format_duration(duration),
                    SegmentType.FULL,
                    hash_bytes(data),
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                paths.append(path)
            when += timedelta(seconds=duration)
            index += 1
    return paths


def probe_duration(path: Path | str) -> float:
    """Container duration in seconds as ffprobe reports it."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return float(out.strip())


def write_clip_segments(directory: Path, clip: Clip, indexes: Iterable[int]) -> list[str]:
    """Write chosen segments of `clip` as plain files (not a store); returns their paths."""
    paths = []
    for i in indexes:
        path = directory / f"seg{i}.ts"
        path.write_bytes(clip.segments[i])
        paths.append(str(path))
    return paths
