"""Retention: whole hour directories older than a cutoff are deleted, tombstones and hidden files included.

An hour goes only when all of it is older than the cutoff (`HOUR + 1 h <= cutoff`), the same rule by
which a backfiller bounded at that cutoff skips it, so a pruned hour is never fetched back.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.store.listing import list_channels, list_hours, list_qualities
from wubloader.store.naming import parse_hour

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

ONE_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrunedHour:
    """An hour directory deleted (or, in a dry run, that would be): its path, file count and bytes."""

    path: Path
    files: int
    bytes: int


def expired_hours(base: Path, cutoff: datetime) -> list[Path]:
    """Every CHANNEL/QUALITY/HOUR directory wholly older than `cutoff` (naive UTC), oldest first."""
    found = []
    for channel in list_channels(base):
        for quality in list_qualities(base, channel):
            for hour in list_hours(base, channel, quality):
                if parse_hour(hour) + ONE_HOUR <= cutoff:
                    found.append((hour, base / channel / quality / hour))
    return [path for _, path in sorted(found)]


def prune_hour(path: Path, *, dry_run: bool = False) -> PrunedHour:
    """Delete one hour directory and everything in it (symlinks are removed, never followed)."""
    files = size = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                size += os.lstat(os.path.join(root, name)).st_size  # noqa: PTH118 -- hot loop over os.walk
            except FileNotFoundError:
                continue
            files += 1
    if not dry_run:
        shutil.rmtree(path, ignore_errors=False)
    return PrunedHour(path=path, files=files, bytes=size)


def prune(base: Path, cutoff: datetime, *, dry_run: bool = False) -> list[PrunedHour]:
    """Delete every hour wholly older than `cutoff`; returns what was (or would be) deleted."""
    return [prune_hour(path, dry_run=dry_run) for path in expired_hours(base, cutoff)]
