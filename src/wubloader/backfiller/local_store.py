"""The local side of a diff: hour listings cached by directory mtime, and tombstone creation (in threads)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.backfiller.plan import EMPTY_LISTING, HourListing, listing_bytes
from wubloader.store.cache import ByteBudgetLRU
from wubloader.store.listing import create_tombstone, read_hour_names
from wubloader.store.writer import sync_directory

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from wubloader.backfiller.plan import HourKey


logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalHour:
    """A local hour listing and its `version` (the settled dir mtime in ns; None = do not cache on it)."""

    listing: HourListing
    version: int | None


class LocalHours:
    """Lists local hour directories, re-reading one only when its mtime changed.

    A directory modified within `settle_seconds` is always re-read and reported with version None:
    its mtime may not yet reflect a second change within the same clock tick. An LRU bounded by
    `max_bytes` of listings.
    """

    def __init__(
        self,
        base: Path,
        *,
        settle_seconds: float = 2.0,
        max_bytes: int = 64 * 1024 * 1024,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.base = base
        self.settle_seconds = settle_seconds
        self._now = now
        self._cache: ByteBudgetLRU[Path, tuple[int, HourListing]] = ByteBudgetLRU(max_bytes)

    def hour_dir(self, key: HourKey) -> Path:
        return self.base / key.channel / key.quality / key.hour

    def read(self, key: HourKey) -> LocalHour:
        """Blocking: the hour's listing (empty if the directory does not exist).

        Raises OSError if it exists but cannot be read (permissions, a symlink loop, I/O errors).
        """
        path = self.hour_dir(key)
        try:
            mtime_ns = os.stat(path).st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            self._cache.pop(path)
            return LocalHour(listing=EMPTY_LISTING, version=0)
        cached = self._cache.get(path)
        settled = self._now() - mtime_ns / 1e9 > self.settle_seconds
        if cached is not None and cached[0] == mtime_ns and settled:
            return LocalHour(listing=cached[1], version=mtime_ns)
        listing = HourListing.from_names(read_hour_names(path))
        if settled:
            self._cache.put(path, (mtime_ns, listing), listing_bytes(listing))
        return LocalHour(listing=listing, version=mtime_ns if settled else None)

    async def read_many(self, keys: Sequence[HourKey]) -> dict[HourKey, LocalHour | OSError]:
        """`read` for several hours in one worker thread; an unreadable hour maps to its error."""

        def read_all() -> dict[HourKey, LocalHour | OSError]:
            result: dict[HourKey, LocalHour | OSError] = {}
            for key in keys:
                try:
                    result[key] = self.read(key)
                except OSError as exc:
                    result[key] = exc
            return result

        return await asyncio.to_thread(read_all)

    async def create_tombstones(self, key: HourKey, names: Sequence[str]) -> None:
        """Create empty tombstone files (and the hour directory) in a worker thread. Raises OSError."""
        hour_dir = self.hour_dir(key)

        def create() -> None:
            for name in names:
                create_tombstone(hour_dir / name)

        await asyncio.to_thread(create)

    async def sync_directories(self, keys: Sequence[HourKey]) -> None:
        """One directory fsync per hour written, instead of one per file (the renames' durability).

        A directory that cannot be synced is logged; the failed writes there were already counted.
        """

        def sync_all() -> None:
            for key in keys:
                directory = self.hour_dir(key)
                try:
                    sync_directory(directory)
                except OSError as exc:
                    logger.warning("cannot fsync %s: %s", directory, exc)

        await asyncio.to_thread(sync_all)
