"""Keeping a long-lived job alive: restart it after a crash with exponential backoff, stop on request."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.runtime.errors import ListenError, RuntimeConfigError
from wubloader.runtime.metrics import TASK_RESTARTS

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """Delays between restarts: `initial`, times `factor` per consecutive crash, capped at `maximum`.

    A run that lasted at least `reset_after` seconds counts as healthy, so its crash starts the
    sequence again at `initial` instead of punishing a job that fails once a day.
    """

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    reset_after: float = 60.0

    def __post_init__(self) -> None:
        if not 0 <= self.initial <= self.maximum:
            raise RuntimeConfigError(f"backoff needs 0 <= initial <= maximum, got {self}")
        if self.factor < 1 or self.reset_after < 0:
            raise RuntimeConfigError(f"backoff needs factor >= 1 and reset_after >= 0, got {self}")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th consecutive crash (1-based)."""
        delay = self.initial
        for _ in range(max(failures - 1, 0)):
            delay *= self.factor
            if delay >= self.maximum:
                return self.maximum
        return min(delay, self.maximum)


async def _stopped_within(stop: asyncio.Event | None, seconds: float) -> bool:
    """Sleep `seconds`, waking early when `stop` is set; True if it was set."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return False
    return True


async def supervise(
    name: str,
    factory: Callable[[], Awaitable[None]],
    *,
    backoff: Backoff | None = None,
    stop: asyncio.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run `factory()` until it returns, restarting it whenever it raises (except fatal errors:
    RuntimeConfigError and ListenError propagate at once, so the process exits with one line).

    Each crash is logged with its traceback and counted in `wubloader_task_restarts_total{task=name}`
    (`name` must come from a small fixed set: it is a label). The restart waits per `backoff`. Returns
    when the job returns normally, or when `stop` is set while waiting to restart (the job itself is
    expected to watch `stop` too). Cancellation propagates at once, so it fits in a TaskGroup.
    """
    backoff = backoff or Backoff()
    failures = 0
    while True:
        started = clock()
        try:
            await factory()
            return
        except (RuntimeConfigError, ListenError):
            raise  # fatal: no restart can fix bad configuration or a port someone else holds
        except Exception:
            if clock() - started >= backoff.reset_after:
                failures = 0
            failures += 1
            delay = backoff.delay(failures)
            TASK_RESTARTS.labels(name).inc()
            logger.exception("%s crashed (%d in a row); restarting in %.1f s", name, failures, delay)
        if stop is not None and stop.is_set():
            return
        if await _stopped_within(stop, delay):
            return
