"""Cached JSON bodies (and ETags) of hour listings, so a peer polling `/files/C/Q/HOUR` costs one `stat`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.store.cache import ByteBudgetLRU
from wubloader.store.listing import list_segment_files

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from wubloader.runtime.workers import WorkerPool


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """A JSON listing body and its ETag (a digest of the body, so equal listings share it across nodes)."""

    body: bytes
    etag: str


EMPTY_LISTING = Listing(body=b"[]", etag='"empty"')


def make_listing(body: bytes) -> Listing:
    return Listing(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


# An entry's memory beside its body and key: the records, the ETag and the LRU's slot.
ENTRY_BYTES = 400


@dataclass(frozen=True, slots=True)
class _Entry:
    mtime_ns: int
    listing: Listing


class HourListingCache:
    """JSON body of an hour's segment names, reused while the directory's mtime is unchanged.

    A directory modified within `settle_seconds` is re-listed every time (its mtime may not show a
    second change in the same clock tick), like SegmentIndex. Directories are listed in `pool`
    (the replication routes' own), or the default pool if None. An LRU bounded by `max_bytes` of
    bodies (an hour of 2 s segments is ~170 kB). A missing directory lists as `[]`, never cached.
    """

    def __init__(
        self,
        *,
        pool: WorkerPool | None = None,
        max_bytes: int = 64 * 1024 * 1024,
        settle_seconds: float = 2.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.pool = pool
        self.settle_seconds = settle_seconds
        self._now = now
        self._entries: ByteBudgetLRU[tuple[str, bool], _Entry] = ByteBudgetLRU(max_bytes)

    def __len__(self) -> int:
        return len(self._entries)

    async def listing(self, hour_dir: Path, include_tombstones: bool) -> Listing:
        key = (str(hour_dir), include_tombstones)
        try:
            mtime_ns = os.stat(key[0]).st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):
            return EMPTY_LISTING
        entry = self._entries.get(key)
        if entry is not None and entry.mtime_ns == mtime_ns:
            return entry.listing
        if self.pool is None:
            names = await asyncio.to_thread(list_segment_files, hour_dir, include_tombstones)
        else:
            names = await self.pool.run(list_segment_files, hour_dir, include_tombstones)
        listing = make_listing(json.dumps(names).encode())
        if self._now() - mtime_ns / 1e9 > self.settle_seconds:
            self._entries.put(key, _Entry(mtime_ns, listing), ENTRY_BYTES + len(key[0]) + len(listing.body))
        return listing
