"""Rough cut: the bytes of every covering segment back to back (no trimming, no re-encoding)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from wubloader.store.naming import Segment

SEGMENTS_PER_READ = 4


def _read_batch(paths: Sequence[str]) -> bytes:
    return b"".join(Path(path).read_bytes() for path in paths)


async def rough_cut(segments: Sequence[Segment]) -> AsyncGenerator[bytes | bytearray, None]:
    """Yield the segments' bytes in order, read off the event loop in batches of a few segments.

    MPEG-TS segments concatenate into a valid stream; the output starts and ends up to one segment
    outside the requested ranges and keeps the source timestamps (jumps at holes and range joins).
    """
    batch: list[str] = []
    for seg in segments:
        batch.append(seg.path)
        if len(batch) >= SEGMENTS_PER_READ:
            yield await asyncio.to_thread(_read_batch, batch)
            batch = []
    if batch:
        yield await asyncio.to_thread(_read_batch, batch)
