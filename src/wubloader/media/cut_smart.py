"""Smart cut: frame-exact edges, bulk copied, one continuous MPEG-TS timeline from 0 across every join.

The re-encoded pieces (edges, transition windows) are started up front, at most two ffmpegs at a time,
while copied segments stream; every piece and copied run is then shifted onto the output timeline by
`Retimer`. Leaving the iterator early cancels the pending encodes, which kills their ffmpegs.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.media.cut_plan import CopyRun, Edge, Window
from wubloader.media.cut_retime import Retimer
from wubloader.media.cut_ts import first_timestamps

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from wubloader.media.cut_encode import PieceEncoder
    from wubloader.media.cut_plan import Part
    from wubloader.store.naming import Segment

BATCH_BYTES = 8 * 1024 * 1024
PIECES_AHEAD = 4


class Placement(enum.StrEnum):
    """smart: one continuous timeline from 0; fast: source timestamps, copied bytes untouched."""

    SMART = "smart"
    FAST = "fast"


def _batches(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Group segments into reads of about BATCH_BYTES (sizes guessed from the first file)."""
    try:
        size = max(1, Path(segments[0].path).stat().st_size)
    except OSError:
        size = BATCH_BYTES
    per = max(1, BATCH_BYTES // size)
    return [list(segments[i : i + per]) for i in range(0, len(segments), per)]


def _read_file(path: str) -> bytearray:
    with Path(path).open("rb", buffering=0) as f:
        data = bytearray(os.fstat(f.fileno()).st_size)
        got = f.readinto(data)
    del data[got or 0 :]
    return data


def _read_copy(batch: Sequence[Segment], retimer: Retimer | None, first: bool) -> list[bytearray]:
    """Read a batch of segments; with a retimer, shift them in place (starting the part on the first)."""
    out = []
    for i, seg in enumerate(batch):
        data = _read_file(seg.path)
        if retimer is not None:
            if first and i == 0:
                retimer.begin_part(data)
            elif retimer.jumps(data):
                retimer.end_part()
                retimer.begin_part(data, after_jump=True)
            data = retimer.retime(data)
        out.append(data)
    return out


async def _copy_run(run: CopyRun, retimer: Retimer | None) -> AsyncGenerator[bytes | bytearray, None]:
    for n, batch in enumerate(_batches(run.segments)):
        for data in await asyncio.to_thread(_read_copy, batch, retimer, n == 0):
            yield data
    if retimer is not None:
        retimer.end_part()


def _fast_target(part: Edge | Window, encoder: PieceEncoder, first_blob: bytes) -> int:
    """Raw source PTS of the piece's first frame: where a fast cut puts the piece back."""
    first = first_timestamps(first_blob, encoder.layout)
    frame_index = part.start_frame if isinstance(part, Edge) else part.out_frame
    return first.video_pts + frame_index * encoder.info.frame_ticks


async def _encode_piece(encoder: PieceEncoder, piece: Part) -> bytes:
    if isinstance(piece, Edge):
        return await encoder.encode_edge(piece)
    assert isinstance(piece, Window), "copied runs are not encoded"
    return await encoder.encode_window(piece)


async def stream_parts(
    parts: Sequence[Part], encoder: PieceEncoder, placement: Placement
) -> AsyncGenerator[bytes | bytearray, None]:
    """The cut's bytes, part after part. Raises FfmpegFailed/FfmpegTimeout/UnsupportedMedia mid-stream."""
    retimer = Retimer(encoder.layout, encoder.info.frame_ticks)
    pieces: dict[int, asyncio.Task[bytes]] = {}
    pending = [i for i, part in enumerate(parts) if not isinstance(part, CopyRun)]
    try:
        for i, part in enumerate(parts):
            # Keep the next few pieces encoding (bounded: their bytes wait in memory until used).
            while pending and len(pieces) < PIECES_AHEAD:
                j = pending.pop(0)
                pieces[j] = asyncio.create_task(_encode_piece(encoder, parts[j]))
            if isinstance(part, CopyRun):
                async for chunk in _copy_run(part, retimer if placement is Placement.SMART else None):
                    yield chunk
                continue
            data = await pieces.pop(i)
            if placement is Placement.SMART:
                retimer.begin_part(data, drop_overlapping_audio=isinstance(part, Window))
            else:
                source = part.segment if isinstance(part, Edge) else part.outgoing[0]
                head = await asyncio.to_thread(_read_head, source.path)
                retimer.begin_part(data, target=_fast_target(part, encoder, head))
            yield await asyncio.to_thread(retimer.retime, data)
            retimer.end_part()
    finally:
        for task in pieces.values():
            task.cancel()
        for task in pieces.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _read_head(path: str) -> bytes:
    with Path(path).open("rb") as f:
        return f.read(512 * 1024 // 188 * 188)


def smart_cut(parts: Sequence[Part], encoder: PieceEncoder) -> AsyncGenerator[bytes | bytearray, None]:
    """The smart cut's bytes: one continuous timeline from 0; errors as `stream_parts`."""
    return stream_parts(parts, encoder, Placement.SMART)
