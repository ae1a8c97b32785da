"""Smart cut: frame-exact edges, bulk copied, one continuous MPEG-TS timeline from 0 across every join.

The re-encoded pieces (edges, transition windows) are started up front, at most two ffmpegs at a time,
while copied segments stream; every piece and copied run is then shifted onto the output timeline by
`Retimer`, each copied file in a worker thread right after it is read. Leaving the iterator early
cancels the pending encodes, which kills their ffmpegs.
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
from wubloader.media.process import cancel_and_wait

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from wubloader.media.cut_encode import PieceEncoder
    from wubloader.media.cut_plan import Part
    from wubloader.store.naming import Segment

# Small batches: their buffers are freed and reused by malloc quickly (8 MB ones cost page faults).
BATCH_BYTES = 2 * 1024 * 1024
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


def _read_and_retime(batch: Sequence[Segment], retimer: Retimer | None, first: bool) -> list[bytearray]:
    """Read and shift a batch in place; the first segment of a run begins the part.

    Each file is shifted right after it is read, while its packet headers are still in the CPU cache
    (reading a whole batch first made the header scan miss the cache on every packet; a separate
    reader thread was slower too: it waits for the GIL at every file).
    """
    out = []
    for i, seg in enumerate(batch):
        data = _read_file(seg.path)
        if retimer is not None:
            if first and i == 0:
                retimer.begin_part(data)
                data = retimer.retime(data)
            else:
                data = retimer.retime(data, split_at_jump=True)
        out.append(data)
    return out


async def _copy_run(run: CopyRun, retimer: Retimer | None) -> AsyncGenerator[bytes | bytearray, None]:
    """The run's segments, read and shifted a batch at a time off the event loop."""
    for n, batch in enumerate(_batches(run.segments)):
        for data in await asyncio.to_thread(_read_and_retime, batch, retimer, n == 0):
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
    """The cut's bytes, part after part. Raises FfmpegFailed/FfmpegTimeout/UnsupportedMedia mid-stream.

    The first few pieces start encoding at once, so an end edge encodes while the start edge and the
    copied middle are produced. (Measured and dropped: starting the first piece alone gave no better
    first byte and slower short cuts; reading a run's first batch while awaiting the piece before it
    saved under a millisecond.)
    """
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
                retiming = retimer if placement is Placement.SMART else None
                async with contextlib.aclosing(_copy_run(part, retiming)) as chunks:
                    async for chunk in chunks:
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
        await cancel_and_wait(pieces.values())  # a cancelled encode kills its ffmpeg


def _read_head(path: str) -> bytes:
    with Path(path).open("rb") as f:
        return f.read(512 * 1024 // 188 * 188)


def smart_cut(parts: Sequence[Part], encoder: PieceEncoder) -> AsyncGenerator[bytes | bytearray, None]:
    """The smart cut's bytes: one continuous timeline from 0; errors as `stream_parts`."""
    return stream_parts(parts, encoder, Placement.SMART)
