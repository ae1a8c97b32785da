"""Byte-for-byte views of a store for comparing nodes: visible segments, tombstones, raw files."""

from __future__ import annotations

import os
from pathlib import Path

from wubloader.store.listing import split_hour_entries


def hour_dirs(base: Path) -> list[Path]:
    return sorted(p for p in base.glob("*/*/*") if p.is_dir())


def visible(base: Path) -> dict[str, bytes]:
    """`C/Q/H/NAME` → bytes of every visible (not tombstoned, not temp) segment."""
    result = {}
    for hour_dir in hour_dirs(base):
        segments, _ = split_hour_entries(os.listdir(hour_dir))
        for name in segments:
            if "-temp-" not in name:
                result[str((hour_dir / name).relative_to(base))] = (hour_dir / name).read_bytes()
    return result


def tombstones(base: Path) -> set[str]:
    return {str(p.relative_to(base)) for p in base.glob("*/*/*/*.tombstone")}


def all_files(base: Path) -> set[str]:
    """Every file on disk, hidden-by-tombstone ones included."""
    return {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}


def temp_files(base: Path) -> list[str]:
    return [f for f in all_files(base) if "-temp-" in f]
