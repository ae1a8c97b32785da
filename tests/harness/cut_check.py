"""Checks on cut outputs with ffprobe/ffmpeg: packet timestamps, decoded frames, nearest source frame."""

from __future__ import annotations

import array
import json
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.harness.media import Clip, read_clip

FRAME_SIZE = (80, 45)
FRAME_BYTES = FRAME_SIZE[0] * FRAME_SIZE[1]
FPS = 25
TICKS = 90_000 // FPS
AUDIO_FRAME_TICKS = 1024 * 90_000 // 48_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Packets:
    """Timestamps (90 kHz) of an output's video and audio packets, in file order."""

    video_pts: list[int]
    video_dts: list[int]
    audio_pts: list[int]

    @property
    def frames(self) -> int:
        return len(self.video_pts)

    @property
    def duration(self) -> float:
        pts = sorted(self.video_pts)
        return (pts[-1] - pts[0] + TICKS) / 90_000


def packets(path: Path) -> Packets:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=stream_index,codec_type,pts,dts", "-show_entries",
         "stream=index,codec_type", "-of", "json", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    doc = json.loads(out)
    kinds = {s["index"]: s["codec_type"] for s in doc["streams"]}
    video = [p for p in doc["packets"] if kinds[p["stream_index"]] == "video"]
    audio = [p for p in doc["packets"] if kinds[p["stream_index"]] == "audio"]
    return Packets(
        video_pts=[int(p["pts"]) for p in video],
        video_dts=[int(p["dts"]) for p in video],
        audio_pts=[int(p["pts"]) for p in audio],
    )


def gray_frames(source: Path | str) -> list[bytes]:
    """Every decoded video frame, scaled down to 80x45 grey (enough to tell neighbouring frames apart)."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(source), "-vf", f"scale={FRAME_SIZE[0]}:{FRAME_SIZE[1]}",
         "-pix_fmt", "gray", "-fps_mode", "passthrough", "-f", "rawvideo", "-"],
        check=True, capture_output=True, timeout=120,
    ).stdout  # fmt: skip
    return [out[i : i + FRAME_BYTES] for i in range(0, len(out), FRAME_BYTES)]


def decode_errors(path: Path) -> str:
    """What `ffmpeg -v error -i out -f null -` prints (nothing for a clean file)."""
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stderr.strip()


def _distance(a: bytes, b: bytes) -> int:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def nearest_source_frame(frame: bytes, source: list[bytes], around: int, spread: int = 3) -> int:
    """Index of the source frame (within ±spread of `around`) that looks most like `frame`."""
    candidates = range(max(0, around - spread), min(len(source), around + spread + 1))
    return min(candidates, key=lambda i: _distance(frame, source[i]))


def first_frame_index(seconds: float) -> int:
    """Source frame index of the first frame at or after `seconds` (frames at k/25 s)."""
    return max(0, math.ceil(seconds * FPS - 1e-6))


def encode_wrapping_clip(directory: Path, seconds: int = 12, wrap_after: float = 3.0) -> Clip:
    """A B-frame clip whose 33-bit MPEG-TS timestamps wrap `wrap_after` seconds in (as after 26.5 h live)."""
    directory.mkdir(parents=True, exist_ok=True)
    offset = (1 << 33) / 90_000 - wrap_after
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate={FPS}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:beep_factor=4:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-g", str(2 * FPS), "-keyint_min", str(2 * FPS), "-sc_threshold", "0", "-bf", "2",
        "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-output_ts_offset", f"{offset:.6f}",
        "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
        "-hls_segment_filename", str(directory / "seg%05d.ts"), str(directory / "index.m3u8"),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=120)
    return read_clip(directory, bframes=True, fmp4=False)


def _beep_onsets(path: Path | str) -> list[float]:
    """Seconds (from the first decoded sample) where the 4x-carrier beep of the test tone starts."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
        check=True, capture_output=True, timeout=120,
    ).stdout  # fmt: skip
    samples = array.array("h", raw)
    onsets: list[float] = []
    last_cross = -1000
    in_beep = False
    for i in range(1, len(samples)):
        if (samples[i - 1] < 0) != (samples[i] < 0):
            gap = i - last_cross
            last_cross = i
            # 440 Hz crosses zero every ~55 samples at 48 kHz, the 1760 Hz beep every ~14.
            if gap < 30 and not in_beep:
                in_beep = True
                onset = (i - gap) / 48_000
                if not onsets or onset - onsets[-1] > 0.5:
                    onsets.append(onset)
            elif gap > 40:
                in_beep = False
    return onsets


def av_offset(path: Path | str, first_source_frame: int) -> float:
    """Audio minus video time of the first whole-second beep, by content (source frame 25*s vs beep s).

    The output's video must run on from source frame `first_source_frame` until after that beep.
    """
    got = packets(Path(path))
    audio_start = got.audio_pts[0] / 90_000
    video_start = min(got.video_pts) / 90_000
    for onset in _beep_onsets(path):
        if onset < 0.1:
            continue  # a beep cut by the range start has no clean onset
        beep_time = audio_start + onset
        source_frame = first_source_frame + (beep_time - video_start) * FPS
        second = round(source_frame / FPS)
        video_time = video_start + (second * FPS - first_source_frame) / FPS
        return beep_time - video_time
    raise AssertionError("no beep found")
