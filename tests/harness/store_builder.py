"""Build segment stores of any length on disk, with real names and hashes."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from wubloader.store import SegmentType, format_duration, hash_bytes, segment_path


def write_segment(
    base: Path,
    start: datetime,
    duration: float = 2.0,
    *,
    content: bytes | None = None,
    type: SegmentType = SegmentType.FULL,
    channel: str = "chan",
    quality: str = "source",
) -> Path:
    """One segment file whose name carries the hash of its content (default content is unique per start)."""
    data = content if content is not None else f"{start.isoformat()}/{duration}/{type}".encode()
    path = segment_path(base, channel, quality, start, format_duration(duration), type, hash_bytes(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def build_store(
    base: Path,
    start: datetime,
    count: int,
    *,
    duration: float = 2.0,
    contents: list[bytes] | None = None,
    channel: str = "chan",
    quality: str = "source",
    skip: set[int] | frozenset[int] = frozenset(),
) -> list[Path]:
    """`count` contiguous segments from `start`; with `contents`, segment i reuses contents[i % len].

    Reused contents are hard-linked, so a week-long timing store costs little disk.
    """
    paths = []
    first_for_content: dict[int, Path] = {}
    step = timedelta(seconds=duration)
    for i in range(count):
        if i in skip:
            continue
        seg_start = start + i * step
        if contents is None:
            paths.append(write_segment(base, seg_start, duration, channel=channel, quality=quality))
            continue
        k = i % len(contents)
        data = contents[k]
        path = segment_path(
            base, channel, quality, seg_start, format_duration(duration), SegmentType.FULL, hash_bytes(data)
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        if k in first_for_content:
            os.link(first_for_content[k], path)
        else:
            path.write_bytes(data)
            first_for_content[k] = path
        paths.append(path)
    return paths
