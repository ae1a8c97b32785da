"""The restreamer's one bounded pool of media work (cuts, waveforms, frames): slots, a queue limit, 503."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from wubloader.restreamer.errors import Busy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class MediaSlots:
    """At most `jobs` media requests run at once and at most `queue` more wait for a slot.

    Every ffmpeg run of a restreamer happens inside a slot, so 20 cut requests start at most
    `jobs` encoders. A request that finds every slot and every queue place taken is refused at
    once, and one that waited `wait` seconds without a slot gives up: both raise Busy (503 with
    `Retry-After`). Event-loop only (not thread-safe).
    """

    def __init__(self, *, jobs: int, queue: int, wait: float) -> None:
        self.jobs = jobs
        self.queue = queue
        self.wait = wait
        self._free = asyncio.Semaphore(jobs)
        self._waiting = 0
        self._running = 0

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return self._waiting

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Hold one slot for the duration of the block; Busy if none is or becomes free in time."""
        if self._free.locked() and self._waiting >= self.queue:
            raise Busy(f"all {self.jobs} media slots and {self.queue} queue places are taken; retry later")
        self._waiting += 1
        try:
            async with asyncio.timeout(self.wait):
                await self._free.acquire()
        except TimeoutError:
            raise Busy("too many media requests in progress; retry later") from None
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._free.release()
