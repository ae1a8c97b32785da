"""Quarantine: corrupt segment files moved out of every listing (so backfill restores them), not deleted.

`BASE/.quarantine/CHANNEL/QUALITY/HOUR/NAME` keeps the bytes for a post-mortem; the leading `.` hides
the folder from every listing, replication included.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from wubloader.store.naming import encode_hash

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
