"""Full cut: every range decoded, trimmed frame-exactly with filters, joined (concat or xfade) and re-encoded.

One ffmpeg reads each contiguous run of segments as one byte stream through a pipe of its own (the
files back to back, as the concat protocol would, but with no argument-length limit on the run; never
the concat demuxer, which inflates TS durations) and trims with `trim`/`atrim` (never input `-ss`
inside a short segment, which can yield no frames). Output streams from ffmpeg's stdout.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.media.cut_plan import first_frame_at, runs_between
from wubloader.media.cut_ts import CLOCK, TsLayout, first_timestamps, read_layout, signed_delta
from wubloader.media.errors import BadRange, FfmpegTimeout, UnsupportedMedia
from wubloader.media.process import InputPipes, read_files, start_media_process
from wubloader.media.transitions import xfade_filter

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from wubloader.media.cut_plan import CutRange, Transition
    from wubloader.store.naming import Segment

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024
STALL_SECONDS = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInput:
    """One ffmpeg input: contiguous segments, kept frames [start_frame, end_frame), audio offset."""

    segments: tuple[Segment, ...]
    start_frame: int
    end_frame: int | None
    frames: int
    audio_offset: float


def _audio_offset(path: str, layout: TsLayout | None) -> float:
    """Seconds from ffmpeg's input time 0 to the first video frame (0 for non-TS input)."""
    if layout is None:
        return 0.0
    with Path(path).open("rb") as f:
        head = f.read(512 * 1024 // 188 * 188)
    try:
        first = first_timestamps(head, layout)
    except UnsupportedMedia:
        return 0.0
    return max(0, signed_delta(first.video_pts, first.earliest_pts)) / CLOCK


def plan_inputs(
    rng: CutRange, chain: Sequence[Segment | None], frame: float, layout: TsLayout | None
) -> list[RunInput]:
    """The range's contiguous runs with the frames to keep of each (blocking: reads each run's head)."""
    inputs = []
    for run in runs_between(chain, rng.start, rng.end, frame):
        start = first_frame_at((rng.start - run[0].start).total_seconds(), frame)
        total = round(sum(seg.duration.total_seconds() for seg in run) / frame)
        end = min(total, first_frame_at((rng.end - run[0].start).total_seconds(), frame))
        inputs.append(
            RunInput(
                segments=tuple(run),
                start_frame=start,
                end_frame=None if end >= total else end,
                frames=end - start,
                audio_offset=_audio_offset(run[0].path, layout),
            )
        )
    return inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioRun:
    """One ffmpeg input of separately archived sound (`QUALITY-audio`): contiguous segments, and the
    seconds [start, end) of it that fall inside the range."""

    segments: tuple[Segment, ...]
    start: float
    end: float


def plan_audio(rng: CutRange, chain: Sequence[Segment | None]) -> list[AudioRun]:
    """The range's contiguous runs of sound segments (holes are closed up, as for the video)."""
    runs = []
    for run in runs_between(chain, rng.start, rng.end, 0.0):
        first = run[0]
        total = sum(seg.duration.total_seconds() for seg in run)
        start = max(0.0, (rng.start - first.start).total_seconds())
        end = min(total, (rng.end - first.start).total_seconds())
        if end > start:
            runs.append(AudioRun(segments=tuple(run), start=start, end=end))
    return runs


def _separate_audio_filters(
    first_input: int, runs: Sequence[AudioRun], seconds: float, label: str
) -> list[str]:
    """The range's sound from its own inputs, cut to exactly the video's length (padded with silence)."""
    filters = []
    pads = ""
    for k, run in enumerate(runs):
        index = first_input + k
        filters.append(
            f"[{index}:a]atrim=start={run.start:.6f}:end={run.end:.6f},asetpts=PTS-STARTPTS[xa{index}]"
        )
        pads += f"[xa{index}]"
    filters.append(f"{pads}concat=n={len(runs)}:v=0:a=1,apad,atrim=duration={seconds:.6f}{label}")
    return filters


def _separate_group(
    r: int, video: range, inputs: Sequence[RunInput], runs: Sequence[AudioRun], first_audio: int, frame: float
) -> list[str]:
    """Range `r`'s video runs joined ([gv{r}]) and its sound from separate inputs ([ga{r}])."""
    pads = "".join(f"[rv{i}]" for i in video)
    seconds = sum(run.frames for run in inputs) * frame
    return [
        f"{pads}concat=n={len(inputs)}:v=1:a=0[gv{r}]",
        *_separate_audio_filters(first_audio, runs, seconds, f"[ga{r}]"),
    ]


def _trim_filters(index: int, run: RunInput, frame: float, audio: bool) -> list[str]:
    end_v = f":end_frame={run.end_frame}" if run.end_frame is not None else ""
    filters = [f"[{index}:v]trim=start_frame={run.start_frame}{end_v},setpts=PTS-STARTPTS[rv{index}]"]
    if audio:
        a_start = run.audio_offset + run.start_frame * frame
        filters.append(
            f"[{index}:a]atrim=start={a_start:.6f}:duration={run.frames * frame:.6f},"
            f"asetpts=PTS-STARTPTS[ra{index}]"
        )
    return filters


def build_graph(
    ranges_inputs: Sequence[Sequence[RunInput]],
    transitions: Sequence[Transition | None],
    frame: float,
    audio: bool,
    separate_audio: Sequence[Sequence[AudioRun]] | None = None,
) -> tuple[list[str], str, str]:
    """(filter_complex statements, final video label, final audio label): trims, per-range concat, joins.

    With `separate_audio` (one list per range; its inputs follow all video inputs) the sound comes
    from those inputs instead of the video's own audio streams.
    """
    graph: list[str] = []
    index = 0
    audio_input = sum(len(inputs) for inputs in ranges_inputs)
    done_frames = 0
    cur_v = cur_a = ""
    own_audio = audio and separate_audio is None
    for r, inputs in enumerate(ranges_inputs):
        for run in inputs:
            graph += _trim_filters(index, run, frame, own_audio)
            index += 1
        first = index - len(inputs)
        if separate_audio is not None:
            graph += _separate_group(r, range(first, index), inputs, separate_audio[r], audio_input, frame)
            audio_input += len(separate_audio[r])
        else:
            pads = "".join(f"[rv{i}]" + (f"[ra{i}]" if audio else "") for i in range(first, index))
            out = f"[gv{r}]" + (f"[ga{r}]" if audio else "")
            graph.append(f"{pads}concat=n={len(inputs)}:v=1:a={int(audio)}{out}")
        transition = transitions[r - 1] if r > 0 else None
        if r == 0:
            cur_v, cur_a = "[gv0]", "[ga0]"
        elif transition is None:
            pads = f"{cur_v}{cur_a}[gv{r}][ga{r}]" if audio else f"{cur_v}[gv{r}]"
            out = f"[jv{r}]" + (f"[ja{r}]" if audio else "")
            graph.append(f"{pads}concat=n=2:v=1:a={int(audio)}{out}")
            cur_v, cur_a = f"[jv{r}]", f"[ja{r}]"
        else:
            n = max(1, round(transition.duration / frame))
            offset = (done_frames - n) * frame
            graph.append(f"{cur_v}[gv{r}]{xfade_filter(transition.name, n * frame, offset)}[jv{r}]")
            if audio:
                graph.append(f"{cur_a}[ga{r}]acrossfade=d={n * frame:.6f}[ja{r}]")
            cur_v, cur_a = f"[jv{r}]", f"[ja{r}]"
            done_frames -= n
        done_frames += sum(run.frames for run in inputs)
    return graph, cur_v, cur_a


def plan_full(
    ranges: Sequence[CutRange], chains: Sequence[Sequence[Segment | None]], frame: float
) -> list[list[RunInput]]:
    """Every range's inputs (blocking: reads segment heads); BadRange if a range holds no whole frame."""
    first_seg = next(seg for chain in chains for seg in chain if seg is not None)
    layout = _layout_or_none(first_seg.path)
    planned = []
    for rng, chain in zip(ranges, chains, strict=True):
        inputs = [run for run in plan_inputs(rng, chain, frame, layout) if run.frames > 0]
        if not inputs:
            raise BadRange("a range holds no whole frame")
        planned.append(inputs)
    return planned


async def full_cut(
    ranges_inputs: Sequence[Sequence[RunInput]],
    transitions: Sequence[Transition | None],
    *,
    frame: float,
    has_audio: bool,
    encode_args: Sequence[str],
    format: str = "mpegts",
    separate_audio: Sequence[Sequence[AudioRun]] | None = None,
) -> AsyncGenerator[bytes | bytearray, None]:
    """Re-encode the planned ranges (`plan_full`) with `encode_args` into `format`, streamed.

    `separate_audio` (from `plan_audio`, one list per range): take the sound from those segments.
    Raises FfmpegFailed/FfmpegTimeout mid-way.
    """
    has_audio = has_audio or separate_audio is not None
    graph, video_label, audio_label = build_graph(
        ranges_inputs, transitions, frame, has_audio, separate_audio
    )
    # Inputs in the graph's order: every video run, then every separate-audio run.
    segment_lists = [run.segments for inputs in ranges_inputs for run in inputs]
    segment_lists += [audio_run.segments for runs in separate_audio or () for audio_run in runs]
    with InputPipes(len(segment_lists)) as pipes:
        args = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error"]
        for i in range(len(segment_lists)):
            args += ["-i", pipes.url(i)]
        args += ["-filter_complex", ";".join(graph), "-map", video_label]
        if has_audio:
            args += ["-map", audio_label]
        args += [*encode_args, "-f", format, "pipe:1"]
        async with start_media_process(args, pipes=pipes) as media:
            sources = [read_files([seg.path for seg in segments]) for segments in segment_lists]
            feeder = asyncio.create_task(pipes.feed("ffmpeg", sources))
            try:
                async for chunk in _read_output(media.stdout):
                    yield chunk
                await feeder  # first: a source that failed may have left ffmpeg a short input
                await media.wait_ok()
            finally:
                await _stop(feeder)


async def _read_output(stdout: asyncio.StreamReader) -> AsyncGenerator[bytes, None]:
    """ffmpeg's output in chunks; FfmpegTimeout if it stalls for STALL_SECONDS."""
    while True:
        try:
            async with asyncio.timeout(STALL_SECONDS):
                chunk = await stdout.read(CHUNK)
        except TimeoutError:
            raise FfmpegTimeout(f"full cut produced nothing for {STALL_SECONDS}s") from None
        if not chunk:
            return
        yield chunk


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel `task` and wait for it, without swallowing a cancellation of the current task."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        logger.debug("feeding ffmpeg failed: %s", task.exception())


def _layout_or_none(path: str) -> TsLayout | None:
    with Path(path).open("rb") as f:
        head = f.read(512 * 1024 // 188 * 188)
    try:
        return read_layout(head)
    except UnsupportedMedia:
        return None
