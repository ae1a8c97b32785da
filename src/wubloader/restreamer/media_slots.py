"""The restreamer's one bounded pool of media work (cuts, waveforms, frames): slots, a queue limit, 503."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from wubloader.restreamer.errors import Busy

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable


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


class OutputPace:
    """Caps the bytes per second all media responses together send (None: no cap).

    Streaming cuts is work on the event loop (and the kernel's copies are charged to this process):
    four clients reading hour-long cuts as fast as loopback allows took 200 MB/s worth of CPU, and
    peers' listings queued behind it. A shared budget keeps that work bounded. Event-loop only.
    """

    def __init__(
        self,
        bytes_per_second: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = bytes_per_second
        self._clock = clock
        self._sleep = sleep
        self._next_free = 0.0

    async def take(self, size: int) -> None:
        """Wait until `size` more bytes fit in the budget (callers are served in turn)."""
        if self.rate is None:
            return
        now = self._clock()
        start = max(self._next_free, now)
        self._next_free = start + size / self.rate
        if start > now:
            await self._sleep(start - now)

    async def paced(self, chunks: AsyncIterable[bytes | bytearray]) -> AsyncIterator[bytes | bytearray]:
        """`chunks`, each let through once it fits the budget (the caller closes `chunks`)."""
        async for chunk in chunks:
            await self.take(len(chunk))
            yield chunk
