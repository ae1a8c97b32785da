"""A byte-rate throttle: how long to wait so that work done so far stays under a rate."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class Throttle:
    """Paces work at `rate` bytes/s on average since creation (None = unlimited); the clock is injectable."""

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._start = clock()
        self._done = 0

    def delay(self, size: int) -> float:
        """Record `size` more bytes done; return the seconds to wait before the next piece of work."""
        self._done += size
        if self.rate is None:
            return 0.0
        return max(0.0, self._start + self._done / self.rate - self._clock())
