"""Atomic, hashed segment writes (temp name → fsync → rename) and clean-up of stale temp files."""

from __future__ import annotations

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
    from datetime import datetime
    from pathlib import Path
    from types import TracebackType

logger = logging.getLogger(__name__)


def ensure_directory(path: Path) -> None:
    """Create `path` and its parents; a no-op if it exists (safe against concurrent creators)."""
    path.mkdir(parents=True, exist_ok=True)


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

    def write(self, data: bytes) -> None:
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
        if not self._file.closed:
            self._file.close()
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
    base: Path, channels: list[str] | None = None, min_age_seconds: float = 0.0, now: float | None = None
) -> int:
    """Delete `temp` segment files older than `min_age_seconds`; returns how many were removed.

    Run at start-up. Another process sharing the store may be writing right now, hence the age bound.
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
