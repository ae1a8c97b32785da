"""The video frame at an instant, from the segment store (selection from store/, decoding by media/)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.media.frame import extract_frame
from wubloader.thumbnails.errors import NoFrameAt

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from wubloader.store.naming import Segment
    from wubloader.store.selection import SegmentIndex

# An instant inside the last frame of a segment needs the next one; 1 s reaches it for any rate.
FRAME_LOOKAHEAD = timedelta(seconds=1)


async def frame_at(
    index: SegmentIndex,
    channel: str,
    quality: str,
    when: datetime,
    *,
    time_limit: float,
    confine: Callable[[Sequence[Segment | None]], None] | None = None,
) -> bytes:
    """PNG of the frame shown at `when` (at most one frame interval later).

    `confine`, if given, vets the selected segments before any is read (blocking; run in a thread):
    a server passes its symlink rule here. Raises NoFrameAt when no segment covers `when`; media
    errors (FfmpegFailed, NoFrame) and whatever `confine` raises pass through.
    """
    chain = await index.best_segments_async(channel, quality, when, when + FRAME_LOOKAHEAD)
    if confine is not None:
        await asyncio.to_thread(confine, chain[:2])
    first = chain[0] if chain else None
    if first is None or not first.start <= when < first.end:
        raise NoFrameAt(f"no video of {channel}/{quality} at {when.isoformat()}")
    paths = [first.path]
    if len(chain) > 1 and chain[1] is not None:
        paths.append(chain[1].path)
    return await extract_frame(paths, (when - first.start).total_seconds(), time_limit=time_limit)
