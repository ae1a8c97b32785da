"""Retention inside a node (`--keep HOURS`): prune whole hours older than that, every few minutes."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.maintenance.metrics import RETENTION_BYTES, RETENTION_HOURS
from wubloader.runtime.timeparse import now_utc
from wubloader.store.retention import prune

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

logger = logging.getLogger(__name__)


class Retention:
    """Deletes hours wholly older than `keep_hours` every `interval` seconds (tombstones and all)."""

    def __init__(
        self,
        base: Path,
        keep_hours: float,
        *,
        interval: float = 600.0,
        now: Callable[[], datetime] = now_utc,
    ) -> None:
        self.base = base
        self.keep = timedelta(hours=keep_hours)
        self.interval = interval
        self._now = now

    async def run(self, stop: asyncio.Event) -> None:
        """Prune now and then every `interval` s until `stop` is set."""
        while not stop.is_set():
            await self.prune_once()
            try:
                async with asyncio.timeout(self.interval):
                    await stop.wait()
            except TimeoutError:
                pass

    async def prune_once(self) -> None:
        cutoff = self._now() - self.keep
        pruned = await asyncio.to_thread(prune, self.base, cutoff)
        for hour in pruned:
            logger.info("retention: deleted %s (%d files, %d bytes)", hour.path, hour.files, hour.bytes)
            RETENTION_HOURS.inc()
            RETENTION_BYTES.inc(hour.bytes)
