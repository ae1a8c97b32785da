"""A token bucket shared by all fetches, capping the backfiller's total download rate (`--max-rate`)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class TokenBucket:
    """`rate` bytes per second with bursts up to `burst` bytes.

    `consume(n)` may take the bucket into debt (a chunk can be bigger than the burst) and then
    sleeps until the debt is paid, holding a lock so waiters are served in arrival order. Over any
    interval the bytes consumed are at most burst + rate x elapsed.
    """

    def __init__(
        self, rate: float, *, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ):
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.burst = burst if burst is not None else max(rate * 0.1, 64 * 1024)
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def consume(self, amount: int) -> None:
        """Take `amount` bytes' worth of tokens, sleeping as long as the rate requires."""
        async with self._lock:
            self._refill()
            self._tokens -= amount
            if self._tokens < 0:
                await asyncio.sleep(-self._tokens / self.rate)
