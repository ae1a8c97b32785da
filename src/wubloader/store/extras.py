"""Non-segment files a node keeps inside BASE and serves: the coverage maps (`BASE/coverage-maps/`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from wubloader.store.naming import check_component

if TYPE_CHECKING:
    from pathlib import Path

COVERAGE_MAPS_DIR = "coverage-maps"
COVERAGE_MAP_SUFFIX = "_coverage.png"


def coverage_map_name(channel: str, quality: str) -> str:
    """`CHANNEL_QUALITY_coverage.png`, as the original named its maps."""
    return f"{check_component(channel)}_{check_component(quality)}{COVERAGE_MAP_SUFFIX}"


def coverage_maps_dir(base: Path) -> Path:
    return base / COVERAGE_MAPS_DIR


def list_coverage_maps(base: Path) -> list[str]:
    """Names of the coverage maps present (regular files only, hidden ones excluded), sorted."""
    if coverage_maps_dir(base).is_symlink():
        return []
    try:
        with os.scandir(coverage_maps_dir(base)) as entries:
            return sorted(
                e.name
                for e in entries
                if e.name.endswith(COVERAGE_MAP_SUFFIX)
                and not e.name.startswith(".")
                and e.is_file(follow_symlinks=False)
            )
    except (FileNotFoundError, NotADirectoryError):
        return []


def coverage_map_path(base: Path, name: str) -> Path | None:
    """The map file called `name` if it is one (no path tricks, no symlinks), else None.

    Raises UnsafePath for a name that could escape the folder or reveal hidden files.
    """
    check_component(name)
    path = coverage_maps_dir(base) / name
    if not name.endswith(COVERAGE_MAP_SUFFIX) or path.parent.is_symlink() or path.is_symlink():
        return None
    if not path.is_file():
        return None
    return path
