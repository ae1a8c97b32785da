"""The disk side of a segment fetch, kept off the event loop, and the memory of disk trouble.

Creating, writing, hashing, fsyncing and renaming a segment file can block for milliseconds (much
longer on a busy or failing disk); in `wubloader node` that would stall every playlist and segment
response served by the same loop. So every file operation runs in the downloader's own executor,
in batches, while the loop only receives bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING, Protocol, TypeVar

from wubloader.store import SegmentType, SegmentWriter

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Executor
    from datetime import datetime
    from pathlib import Path

logger = logging.getLogger(__name__)

A = TypeVar("A")
FLUSH_BYTES = 1024 * 1024
DISK_BACKOFF_INITIAL = 1.0
DISK_BACKOFF_MAX = 60.0


class Writer(Protocol):
    """What a sink needs of a segment writer (store.SegmentWriter; tests inject slow ones)."""

    size: int
    final_path: Path | None

    def write(self, data: bytes) -> None: ...

    def commit(
        self, type: SegmentType = ..., expected_hash: str | None = ..., *, sync_dir: bool = ...
    ) -> Path: ...

    def abort(self) -> None: ...


class SegmentSink:
    """Collects one segment's bytes and writes them in `executor` threads, FLUSH_BYTES at a time.

    Use as an async context manager: leaving without `commit` removes the temp file.
    """

    def __init__(
        self,
        executor: Executor | None,
        open_writer: Callable[[Path, str, str, datetime, str], Writer],
        where: tuple[Path, str, str, datetime, str],
    ) -> None:
        self.executor = executor
        self.open_writer = open_writer
        self.where = where
        self.writer: Writer | None = None
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.received = 0

    @property
    def size(self) -> int:
        return self.received

    async def add(self, data: bytes) -> None:
        if not data:
            return
        self.pending.append(data)
        self.pending_size += len(data)
        self.received += len(data)
        if self.pending_size >= FLUSH_BYTES:
            await self._in_thread(self._write, self._take())

    async def commit(self, seg_type: SegmentType) -> None:
        await self._in_thread(self._finish, (self._take(), seg_type))

    def _take(self) -> list[bytes]:
        chunks, self.pending, self.pending_size = self.pending, [], 0
        return chunks

    def _write(self, chunks: list[bytes]) -> None:
        if self.writer is None:
            self.writer = self.open_writer(*self.where)
        if chunks:
            self.writer.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))

    def _finish(self, args: tuple[list[bytes], SegmentType]) -> None:
        chunks, seg_type = args
        self._write(chunks)
        assert self.writer is not None
        self.writer.commit(seg_type)

    async def _in_thread(self, func: Callable[[A], None], arg: A) -> None:
        """Run in the executor; if cancelled, wait for the thread before re-raising, so that the clean-up
        (closing and removing the temp file) never races a write or a rename."""
        future = asyncio.get_running_loop().run_in_executor(self.executor, func, arg)
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await future
            raise

    async def __aenter__(self) -> SegmentSink:
        return self

    async def __aexit__(self, *exc: object) -> None:
        writer = self.writer
        if writer is not None and writer.final_path is None:
            await asyncio.get_running_loop().run_in_executor(self.executor, writer.abort)


def open_segment_writer(base: Path, channel: str, quality: str, start: datetime, duration: str) -> Writer:
    """The default writer: the store's atomic, hashing SegmentWriter."""
    return SegmentWriter(base, channel, quality, start, duration)


class DiskHealth:
    """Remembers write failures: backs off after each (1 s doubling to 60 s) and logs each distinct
    error once, so a full or read-only disk is not retried and logged every second."""

    def __init__(self, label: str, monotonic: Callable[[], float]) -> None:
        self.label = label
        self.monotonic = monotonic
        self.failures = 0
        self.paused_until = 0.0
        self._seen: set[str] = set()

    def ready(self) -> bool:
        return self.monotonic() >= self.paused_until

    def failed(self, exc: OSError) -> None:
        """Record a failure; logs it (with traceback) only the first time this error is seen.

        Failures of writes that started together count once: the pause only grows when a write
        started after the previous pause failed too.
        """
        delay = self.paused_until - self.monotonic()
        if delay <= 0:
            self.failures += 1
            delay = min(DISK_BACKOFF_INITIAL * 2 ** min(self.failures - 1, 10), DISK_BACKOFF_MAX)
            self.paused_until = self.monotonic() + delay * random.uniform(0.9, 1.1)
        key = f"{type(exc).__name__}:{exc.errno}:{exc.strerror}:{exc.filename}"
        if key in self._seen:
            logger.debug("%s: write failed again (%d in a row): %s", self.label, self.failures, exc)
            return
        if len(self._seen) >= 64:
            self._seen.clear()
        self._seen.add(key)
        logger.error(
            "%s: cannot write segments (%s); pausing writes for %.0f s, retrying with backoff",
            self.label, exc, delay, exc_info=exc,
        )  # fmt: skip

    def succeeded(self) -> None:
        if self.failures:
            logger.info("%s: segment writes work again after %d failures", self.label, self.failures)
        self.failures = 0
        self.paused_until = 0.0
        self._seen.clear()
