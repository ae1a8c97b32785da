"""The one entry point for cuts: validate and plan everything, then hand back the byte stream.

`prepare_cut` does all checking (ranges, transitions, holes, media probing, transition windows) before
it returns, so a caller can refuse the request (HTTP 400/404/406) before the first byte is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.media.cut_encode import PieceEncoder
from wubloader.media.cut_fast import fast_cut
from wubloader.media.cut_full import full_cut, plan_audio, plan_full
from wubloader.media.cut_plan import CutType, check_chains, plan_parts, rough_segments, validate_cut
from wubloader.media.cut_rough import rough_cut
from wubloader.media.cut_smart import smart_cut
from wubloader.media.cut_ts import first_timestamps, read_layout, signed_delta
from wubloader.media.probe import probe_segment

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from wubloader.media.cut_plan import CutRange, Transition
    from wubloader.store.naming import Segment

# The restreamer's `type=mpegts` / `type=webm` full cuts (fixed settings, as in the original).
MPEGTS_ARGS = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "0", "-c:a", "aac")
WEBM_ARGS = ("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus")


@dataclass(frozen=True, slots=True, kw_only=True)
class CutOptions:
    """Knobs of a cut: encoder args and container for `full`; x264 quality for fast/smart pieces."""

    full_encode_args: tuple[str, ...] = MPEGTS_ARGS
    full_format: str = "mpegts"
    piece_quality: tuple[str, ...] = ("-preset", "veryfast", "-crf", "18")
    max_parallel_encodes: int = 2


def _read_head(path: str) -> bytes:
    with Path(path).open("rb") as f:
        return f.read(1024 * 1024 // 188 * 188)


def plan_rough(
    ranges: Sequence[CutRange], chains: Sequence[Sequence[Segment | None]], *, allow_holes: bool
) -> list[Segment]:
    """The segments a rough cut sends, in order, after the checks `prepare_cut` makes (same errors).

    A rough cut ignores transitions (whole segments cannot be mixed), but still checks the ranges.
    For a caller that sends the files itself (zero-copy) instead of iterating `rough_cut`.
    """
    validate_cut(ranges, [None] * (len(ranges) - 1))
    check_chains(chains, allow_holes=allow_holes)
    return rough_segments(chains)


async def prepare_cut(
    cut_type: CutType,
    ranges: Sequence[CutRange],
    transitions: Sequence[Transition | None],
    chains: Sequence[Sequence[Segment | None]],
    *,
    allow_holes: bool,
    options: CutOptions | None = None,
    audio_chains: Sequence[Sequence[Segment | None]] | None = None,
) -> AsyncGenerator[bytes | bytearray, None]:
    """Validate and plan a cut of `ranges` (chains from SegmentIndex.best_segments, one per range).

    Raises, before any output: BadRange, BadTransition, TransitionOverHole (media.errors, "400"),
    store NoSegments ("404/406"), ContainsHoles ("406"), UnsupportedMedia, FfmpegFailed (probe).
    The returned iterator yields the output file; stopping it early kills ffmpeg (no temp files are used).
    Output duration = Σ ranges - Σ transition durations (rough: whole segments, transitions ignored).
    `audio_chains` (one per range, from a `QUALITY-audio` store of separately archived sound) give a
    full cut its sound; the other cut types copy segments as they are and ignore them.
    """
    options = options or CutOptions()
    if cut_type is CutType.ROUGH:
        return rough_cut(plan_rough(ranges, chains, allow_holes=allow_holes))
    validate_cut(ranges, transitions)
    check_chains(chains, allow_holes=allow_holes)
    first = next(seg for chain in chains for seg in chain if seg is not None)
    info = await probe_segment(first.path)
    if cut_type is CutType.FULL:
        planned = await asyncio.to_thread(plan_full, ranges, chains, info.frame_seconds)
        separate = None
        if audio_chains is not None and any(seg is not None for chain in audio_chains for seg in chain):
            separate = [plan_audio(rng, chain) for rng, chain in zip(ranges, audio_chains, strict=True)]
            separate = separate if all(separate) else None  # every range needs some sound to mix
        return full_cut(
            planned,
            transitions,
            frame=info.frame_seconds,
            has_audio=info.audio_codec is not None,
            encode_args=options.full_encode_args,
            format=options.full_format,
            separate_audio=separate,
        )
    head = await asyncio.to_thread(_read_head, first.path)
    layout = read_layout(head)
    timestamps = first_timestamps(head, layout)
    parts = plan_parts(ranges, transitions, chains, info.frame_seconds)
    encoder = PieceEncoder(
        info=info,
        layout=layout,
        reorder_ticks=max(0, signed_delta(timestamps.video_pts, timestamps.video_dts)),
        quality=options.piece_quality,
        semaphore=asyncio.Semaphore(options.max_parallel_encodes),
    )
    return smart_cut(parts, encoder) if cut_type is CutType.SMART else fast_cut(parts, encoder)
