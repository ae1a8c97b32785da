"""Store directory listings (channels, qualities, hours, segments) honouring hidden names and tombstones."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from wubloader.store.naming import (
    SEGMENT_SUFFIX,
    TOMBSTONE_SUFFIX,
    check_component,
    parse_hour,
    tombstone_name,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


def _visible_entries(path: Path, want_dirs: bool) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return sorted(
                entry.name
                for entry in entries
                if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False) == want_dirs
            )
    except (FileNotFoundError, NotADirectoryError):
        return []


def list_channels(base: Path) -> list[str]:
    return _visible_entries(base, want_dirs=True)


def list_qualities(base: Path, channel: str) -> list[str]:
    return _visible_entries(base / check_component(channel), want_dirs=True)


def list_hours(base: Path, channel: str, quality: str) -> list[str]:
    """Hour directory names that parse as hours, oldest first."""
    hours = []
    for name in _visible_entries(base / check_component(channel) / check_component(quality), want_dirs=True):
        try:
            parse_hour(name)
        except ValueError:
            continue
        hours.append(name)
    return hours


def split_hour_entries(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split raw names of one hour into (visible segment names, tombstone names), both sorted.

    A segment with a tombstone is not visible. Hidden names (leading `.`) are neither.
    """
    names = list(names)
    if _all_visible_segments(names):  # the usual hour
        return sorted(names), []
    tombstones = {n for n in names if n.endswith(TOMBSTONE_SUFFIX) and not n.startswith(".")}
    segments = sorted(
        n
        for n in names
        if n.endswith(SEGMENT_SUFFIX) and not n.startswith(".") and tombstone_name(n) not in tombstones
    )
    return segments, sorted(tombstones)


def _all_visible_segments(names: list[str]) -> bool:
    """Every name ends in `.ts` and none is hidden: found in the joined names, not name by name."""
    joined = "\n".join(names)
    return (
        joined.count("\n") == len(names) - 1  # no name holds a newline: each one is a separator
        and joined.count(SEGMENT_SUFFIX + "\n") + joined.endswith(SEGMENT_SUFFIX) == len(names)
        and not joined.startswith(".")
        and "\n." not in joined
    )


def read_hour_names(hour_dir: Path) -> list[str]:
    """Raw entry names of an hour directory ([] if it does not exist)."""
    try:
        return os.listdir(hour_dir)
    except (FileNotFoundError, NotADirectoryError):
        return []


def list_segment_files(hour_dir: Path, include_tombstones: bool = False) -> list[str]:
    """Visible segment names of one hour, sorted (= time order); tombstone names appended if asked.

    `temp` names are included (consumers skip them), as the original's replication protocol expects.
    """
    segments, tombstones = split_hour_entries(read_hour_names(hour_dir))
    return segments + tombstones if include_tombstones else segments


def is_tombstoned(segment: Path) -> bool:
    return segment.with_name(tombstone_name(segment.name)).exists()


def create_tombstone(segment: Path) -> Path:
    """Create the empty `STEM.tombstone` beside `segment` (the segment itself need not exist locally)."""
    segment.parent.mkdir(parents=True, exist_ok=True)
    tombstone = segment.with_name(tombstone_name(segment.name))
    tombstone.touch(exist_ok=True)
    return tombstone
