"""Rough cut: the bytes of every covering segment back to back (no trimming, no re-encoding)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from wubloader.store.naming import Segment

# Segments read per trip to a thread: 8 x 0.8 MB in memory at once, as much as 4 and their join took.
SEGMENTS_PER_READ = 8


def _read_batch(paths: Sequence[str]) -> list[bytes]:
    return [Path(path).read_bytes() for path in paths]


async def rough_cut(segments: Sequence[Segment]) -> AsyncGenerator[bytes | bytearray, None]:
    """Yield the segments' bytes in order, read off the event loop in batches of a few segments.

    Each segment is yielded as read, not joined with its batch: the join was a second copy of
    every byte, and the memory it took now holds twice the segments per trip to a thread (each
    trip, waited for in turn, cost more than reading a segment).
    MPEG-TS segments concatenate into a valid stream; the output starts and ends up to one segment
    outside the requested ranges and keeps the source timestamps (jumps at holes and range joins).
    """
    for first in range(0, len(segments), SEGMENTS_PER_READ):
        batch = [seg.path for seg in segments[first : first + SEGMENTS_PER_READ]]
        for data in await asyncio.to_thread(_read_batch, batch):
            yield data
