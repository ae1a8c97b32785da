"""The segment store: names, hashes, listings, tombstones, best-segment selection, atomic writes."""

from wubloader.store.errors import (
    BadSegmentName,
    ContainsHoles,
    HashMismatch,
    NoSegments,
    StoreError,
    UnsafePath,
)
from wubloader.store.listing import (
    create_tombstone,
    is_tombstoned,
    list_channels,
    list_hours,
    list_qualities,
    list_segment_files,
)
from wubloader.store.naming import (
    HOUR_FORMAT,
    Segment,
    SegmentType,
    format_duration,
    hash_bytes,
    hour_name,
    parse_segment_path,
    segment_filename,
    segment_path,
)
from wubloader.store.selection import HOLE, SegmentIndex
from wubloader.store.writer import (
    STALE_TEMP_AGE,
    SegmentWriter,
    TempSweeper,
    ensure_directory,
    remove_stale_temp_files,
)

__all__ = [
    "HOLE",
    "HOUR_FORMAT",
    "STALE_TEMP_AGE",
    "BadSegmentName",
    "ContainsHoles",
    "HashMismatch",
    "NoSegments",
    "Segment",
    "SegmentIndex",
    "SegmentType",
    "SegmentWriter",
    "StoreError",
    "TempSweeper",
    "UnsafePath",
    "create_tombstone",
    "ensure_directory",
    "format_duration",
    "hash_bytes",
    "hour_name",
    "is_tombstoned",
    "list_channels",
    "list_hours",
    "list_qualities",
    "list_segment_files",
    "parse_segment_path",
    "remove_stale_temp_files",
    "segment_filename",
    "segment_path",
]
