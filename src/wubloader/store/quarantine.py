"""Quarantine: corrupt segment files moved out of every listing (so backfill restores them), not deleted.

`BASE/.quarantine/CHANNEL/QUALITY/HOUR/NAME` keeps the bytes for a post-mortem; the leading `.` hides
the folder from every listing, replication included.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.store.naming import encode_hash

if TYPE_CHECKING:
    from wubloader.store.naming import Segment

QUARANTINE_DIR = ".quarantine"
READ_CHUNK = 1 << 20


def file_hash(path: Path) -> str:
    """The store hash (url-safe base64 SHA-256) of a file's bytes, read in 1 MiB chunks."""
    with open(path, "rb") as file:
        return encode_hash(hashlib.file_digest(file, "sha256").digest())


def quarantine_file(base: Path, path: Path) -> Path:
    """Move `path` (inside `base`) to the same relative place under `BASE/.quarantine`; returns it."""
    target = base / QUARANTINE_DIR / Path(path).relative_to(base)
    target.parent.mkdir(parents=True, exist_ok=True)
    Path(path).replace(target)
    return target


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """One segment re-hashed: its size, the hash of its bytes, and where it went if it was quarantined."""

    path: Path
    size: int
    actual: str
    expected: str | None
    quarantined: Path | None = None

    @property
    def corrupt(self) -> bool:
        return self.actual != self.expected


def check_segment(base: Path, segment: Segment, *, fix: bool) -> Checked | None:
    """Re-hash `segment` against its name; with `fix`, quarantine it if corrupt. None if it vanished."""
    path = Path(segment.path)
    try:
        size = path.stat().st_size
        actual = file_hash(path)
    except FileNotFoundError:
        return None
    checked = Checked(path=path, size=size, actual=actual, expected=segment.hash)
    if checked.corrupt and fix:
        try:
            return dataclasses.replace(checked, quarantined=quarantine_file(base, path))
        except FileNotFoundError:
            return None
    return checked


async def check_segment_async(base: Path, segment: Segment, *, fix: bool) -> Checked | None:
    """`check_segment` off the event loop."""
    return await asyncio.to_thread(check_segment, base, segment, fix=fix)
