"""Re-encode the small pieces of a fast/smart cut (edge segments, transition windows) to MPEG-TS bytes.

Each piece keeps the source's PIDs and program, so the output stays one program when the pieces sit
between copied segments. Video is encoded without B-frames and its DTS moved back by the source's
reorder delay, so DTS keeps increasing into and out of copied B-frame video.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.media.cut_ts import CLOCK, first_timestamps, signed_delta
from wubloader.media.probe import audio_encoder_args, video_encoder_args
from wubloader.media.process import run_media_command
from wubloader.media.transitions import xfade_filter

if TYPE_CHECKING:
    from collections.abc import Sequence

    from wubloader.media.cut_plan import Edge, Window
    from wubloader.media.cut_ts import TsLayout
    from wubloader.media.probe import MediaInfo
    from wubloader.store.naming import Segment

PIECE_TIME_LIMIT = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PieceEncoder:
    """What every re-encoded piece of one cut shares: stream facts, PIDs, reorder delay, quality."""

    info: MediaInfo
    layout: TsLayout
    reorder_ticks: int
    quality: tuple[str, ...] = ("-preset", "veryfast", "-crf", "18")
    time_limit: float = PIECE_TIME_LIMIT
    semaphore: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    def _output_args(self, *, copy_audio: bool) -> list[str]:
        args = ["-map", "[v]" if not copy_audio else "0:v:0"]
        has_audio = self.layout.audio_pid is not None and self.info.audio_codec is not None
        if has_audio:
            args += ["-map", "[a]" if not copy_audio else "0:a:0"]
        args += video_encoder_args(self.info, quality=self.quality)
        if self.reorder_ticks:
            # The bsf sees packets in the mpegts muxer's 1/90000 time base (its TB constant does not).
            args += ["-bsf:v", f"setts=dts=DTS-{self.reorder_ticks}"]
        args += ["-streamid", f"0:{self.layout.video_pid}"]
        if has_audio:
            args += ["-c:a", "copy"] if copy_audio else audio_encoder_args(self.info)
            args += ["-streamid", f"1:{self.layout.audio_pid}"]
        args += [
            "-mpegts_pmt_start_pid", str(self.layout.pmt_pid),
            "-mpegts_service_id", str(self.layout.program_number),
            "-pes_payload_size", "0",
            "-f", "mpegts", "pipe:1",
        ]  # fmt: skip
        return args

    async def encode_edge(self, edge: Edge) -> bytes:
        """Frames [start_frame, end_frame) of the edge segment, video re-encoded, audio copied."""
        data = await asyncio.to_thread(Path(edge.segment.path).read_bytes)
        offset = _stream_offset(data, self.layout)
        frame = self.info.frame_seconds
        args = ["ffmpeg", "-hide_banner", "-v", "error", "-f", "mpegts", "-i", "pipe:0"]
        if edge.start_frame > 0:
            args += ["-ss", f"{offset + (edge.start_frame - 0.05) * frame:.6f}"]
        if edge.end_frame is not None:
            args += ["-to", f"{offset + (edge.end_frame - 0.05) * frame:.6f}"]
        args += self._output_args(copy_audio=True)
        async with self.semaphore:
            return await run_media_command(args, time_limit=self.time_limit, input=data)

    async def encode_window(self, window: Window) -> bytes:
        """The transition: both sides' window frames mixed with xfade (+ acrossfade), all re-encoded."""
        frame = self.info.frame_seconds
        seconds = window.frames * frame
        offsets = await asyncio.gather(
            asyncio.to_thread(_file_offset, window.outgoing[0].path, self.layout),
            asyncio.to_thread(_file_offset, window.incoming[0].path, self.layout),
        )
        graph = [
            f"[0:v]trim=start_frame={window.out_frame}:end_frame={window.out_frame + window.frames},"
            "setpts=PTS-STARTPTS[v0]",
            f"[1:v]trim=start_frame={window.in_frame}:end_frame={window.in_frame + window.frames},"
            "setpts=PTS-STARTPTS[v1]",
            f"[v0][v1]{xfade_filter(window.transition.name, seconds, 0.0)}[v]",
        ]
        if self.layout.audio_pid is not None and self.info.audio_codec is not None:
            graph += [
                f"[0:a]atrim=start={offsets[0] + window.out_frame * frame:.6f}:duration={seconds:.6f},"
                "asetpts=PTS-STARTPTS[a0]",
                f"[1:a]atrim=start={offsets[1] + window.in_frame * frame:.6f}:duration={seconds:.6f},"
                "asetpts=PTS-STARTPTS[a1]",
                f"[a0][a1]acrossfade=d={seconds:.6f}[a]",
            ]
        args = [
            "ffmpeg", "-hide_banner", "-nostdin", "-v", "error",
            "-f", "mpegts", "-i", concat_url(window.outgoing),
            "-f", "mpegts", "-i", concat_url(window.incoming),
            "-filter_complex", ";".join(graph),
        ]  # fmt: skip
        args += self._output_args(copy_audio=False)
        async with self.semaphore:
            return await run_media_command(args, time_limit=self.time_limit)


def concat_url(segments: Sequence[Segment]) -> str:
    """ffmpeg's concat protocol over whole files: their bytes back to back (a valid TS stream)."""
    if len(segments) == 1:
        return f"file:{segments[0].path}"
    return "concat:" + "|".join(seg.path for seg in segments)


def _stream_offset(data: bytes, layout: TsLayout) -> float:
    """Seconds from ffmpeg's input time 0 (the earliest PTS) to the segment's first video frame."""
    first = first_timestamps(data, layout)
    return max(0, signed_delta(first.video_pts, first.earliest_pts)) / CLOCK


def _file_offset(path: str, layout: TsLayout) -> float:
    with Path(path).open("rb") as f:
        return _stream_offset(f.read(512 * 1024), layout)
