"""Atomic, hashed segment writes (temp name → fsync → rename) and the one policy for stale temp files."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
from typing import TYPE_CHECKING

from wubloader.store.errors import BadSegmentName, HashMismatch
from wubloader.store.naming import (
    SegmentType,
    check_component,
    encode_hash,
    hour_name,
    parse_hour,
    parse_segment_name,
    segment_filename,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime
    from pathlib import Path
    from types import TracebackType

logger = logging.getLogger(__name__)

# The one temp-file policy of every component: a `temp` file not written to for this long belongs
# to a process that died (SIGKILL, power cut) or failed to clean up, and is removed. A live writer
# writes far more often: downloads and backfill transfers time out long before this.
STALE_TEMP_AGE = 600.0


def ensure_directory(path: Path) -> None:
    """Create `path` and its parents; a no-op if it exists (safe against concurrent creators)."""
    path.mkdir(parents=True, exist_ok=True)


def probe_writable(base: Path) -> None:
    """Create `base` if needed, then create and remove a hidden file in it (readiness checks).

    Raises OSError when the store cannot be written (read-only or full filesystem, permissions).
    Hidden names (a leading `.`) never appear in any listing, so a reader never sees the probe.
    """
    ensure_directory(base)
    probe = base / f".writable-{uuid.uuid4().hex}"
    with open(probe, "xb") as file:
        file.write(b"ok")
    probe.unlink()


def writable_check(base: Path) -> Callable[[], Awaitable[None]]:
    """A readiness check of `base`: runs `probe_writable` on a worker thread (OSError when not writable)."""

    async def check() -> None:
        await asyncio.to_thread(probe_writable, base)

    return check


class SegmentWriter:
    """Streams one segment into `TIME-DURATION-temp-UUID.ts` in its hour directory while hashing it.

    `commit()` fsyncs and renames to the final name carrying the hash, so a crash never leaves wrong
    bytes under a final name. Use as a context manager: leaving without `commit()` removes the temp.
    """

    def __init__(self, base: Path, channel: str, quality: str, start: datetime, duration: str) -> None:
        self.hour_dir = base / check_component(channel) / check_component(quality) / hour_name(start)
        self.start = start
        self.duration = duration
        ensure_directory(self.hour_dir)
        temp_name = segment_filename(start, duration, SegmentType.TEMP, str(uuid.uuid4()))
        self.temp_path = self.hour_dir / temp_name
        self._file = open(self.temp_path, "xb")  # closed in commit/abort
        self._hash = hashlib.sha256()
        self.size = 0
        self.final_path: Path | None = None

    def write(self, data: bytes | memoryview) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def commit(
        self, type: SegmentType = SegmentType.FULL, expected_hash: str | None = None, *, sync_dir: bool = True
    ) -> Path:
        """Make the segment visible under its final name and return that path.

        Raises HashMismatch (and removes the temp) if `expected_hash` is given and differs.
        `sync_dir=False` leaves the directory fsync to the caller (`sync_directory` once per batch):
        the contents are always fsync'd before the rename, so a crash can lose the rename, never
        put wrong bytes under the final name.
        """
        actual = encode_hash(self._hash.digest())
        if expected_hash is not None and actual != expected_hash:
            self.abort()
            raise HashMismatch(expected_hash, actual)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = self.hour_dir / segment_filename(self.start, self.duration, type, actual)
        os.rename(self.temp_path, final)
        if sync_dir:
            sync_directory(self.hour_dir)
        self.final_path = final
        return final

    def abort(self) -> None:
        """Close and delete the temp file. Never raises for the close: on a full disk, flushing the
        buffer fails, and the temp must go all the same (its bytes are being thrown away anyway)."""
        try:
            if not self._file.closed:
                self._file.close()
        except OSError as exc:
            logger.warning("discarding unwritten bytes of %s: %s", self.temp_path.name, exc)
        finally:
            try:
                self.temp_path.unlink()
            except FileNotFoundError:
                pass

    def __enter__(self) -> SegmentWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.final_path is None:
            self.abort()


def sync_directory(path: Path) -> None:
    """fsync a directory, so renames into it survive a power cut, not only the files' contents."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temp_files(
    base: Path,
    channels: list[str] | None = None,
    min_age_seconds: float = 0.0,
    now: float | None = None,
) -> int:
    """Delete `temp` segment files last modified over `min_age_seconds` ago; returns how many.

    Another process sharing the store may be writing right now: pass STALE_TEMP_AGE (as TempSweeper
    does) unless every writer of `channels` is known dead. The age is by mtime, which an
    in-progress write keeps young.
    """
    cutoff = (time.time() if now is None else now) - min_age_seconds
    removed = 0
    for hour_dir in _hour_dirs(base, channels):
        try:
            names = os.listdir(hour_dir)
        except OSError:
            continue
        for name in names:
            if "-temp-" not in name or not name.endswith(".ts"):
                continue
            try:
                seg = parse_segment_name(parse_hour(hour_dir.name), name)
            except BadSegmentName:
                continue
            if seg.type is not SegmentType.TEMP:
                continue
            path = hour_dir / name
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
            except OSError as exc:  # one unremovable leftover must not stop the sweep
                logger.warning("cannot remove stale temp file %s: %s", path, exc)
    if removed:
        logger.info("removed %d stale temp files under %s", removed, base)
    return removed


def _hour_dirs(base: Path, channels: list[str] | None) -> list[Path]:
    result: list[Path] = []
    for channel in channels if channels is not None else _subdirs(base):
        for quality in _subdirs(base / channel):
            result.extend(base / channel / quality / hour for hour in _subdirs(base / channel / quality))
    return result


def _subdirs(path: Path) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return [e.name for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


class TempSweeper:
    """Applies the temp policy while a component runs, not only at its next start.

    `run(stop)` sweeps at once, then every `interval` seconds until `stop` is set; a leftover is
    therefore gone at most `max_age + interval` after its last write.
    """

    def __init__(
        self,
        base: Path,
        channels: list[str] | None = None,
        *,
        max_age: float = STALE_TEMP_AGE,
        interval: float = STALE_TEMP_AGE / 4,
    ) -> None:
        self.base = base
        self.channels = channels
        self.max_age = max_age
        self.interval = interval

    async def sweep(self) -> int:
        """One pass over the store in a worker thread; returns how many files were removed."""
        return await asyncio.to_thread(remove_stale_temp_files, self.base, self.channels, self.max_age)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sweep()
            try:
                async with asyncio.timeout(self.interval):
                    await stop.wait()
            except TimeoutError:
                pass
