"""What an operator command covers: checked channels/qualities and a time range, parsed from CLI text."""

from __future__ import annotations

import getpass
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.maintenance.errors import UsageError
from wubloader.runtime.timeparse import now_utc, parse
from wubloader.store.listing import list_channels, list_qualities
from wubloader.store.naming import check_component
from wubloader.store.tombstones import TombstoneNote

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeRange:
    """[start, end) in naive UTC; either side may be open (None)."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise UsageError(f"--start {self.start.isoformat()} is not before --end {self.end.isoformat()}")

    def contains(self, when: datetime) -> bool:
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)


def parse_range(start: str | None, end: str | None) -> TimeRange:
    """`--start`/`--end` text (any ISO-8601; no zone = UTC) → TimeRange; raises BadTimestamp/UsageError."""
    return TimeRange(
        start=parse(start) if start else None,
        end=parse(end) if end else None,
    )


def check_channel(base: Path, channel: str) -> str:
    """`channel`, if the store holds it; UsageError otherwise (a typo must not silently do nothing)."""
    check_component(channel)
    if channel not in list_channels(base):
        raise UsageError(f"unknown channel {channel!r} in {base}")
    return channel


def channel_qualities(base: Path, channel: str, qualities: Sequence[str] = ()) -> list[str]:
    """The named qualities (each must exist) or, when none are named, every quality of `channel`."""
    known = list_qualities(base, channel)
    for quality in qualities:
        check_component(quality)
        if quality not in known:
            raise UsageError(f"unknown quality {quality!r} of channel {channel!r} in {base}")
    return list(qualities) or known


def check_base(base: Path) -> Path:
    """An existing store directory; UsageError otherwise."""
    if not base.is_dir():
        raise UsageError(f"--base-dir {base} is not a directory")
    return base


def operator_note(reason: str) -> TombstoneNote:
    """A tombstone note by the current login user, now."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return TombstoneNote(reason=reason, who=who, when=now_utc())


def parse_megabytes_per_second(text: str, flag: str) -> float:
    """`--max-rate`-style MB/s (10^6 bytes) text → bytes per second (> 0); UsageError otherwise."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{flag} must be a positive number of MB/s, got {text[:64]!r}")
    return value * 1_000_000


def parse_keep_hours(text: str) -> float:
    """`--keep HOURS`: a number of hours ≥ 1 (a smaller one would delete the hour being recorded)."""
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not math.isfinite(hours) or hours < 1:
        raise UsageError(f"--keep must be a number of hours >= 1, got {text[:64]!r}")
    return hours
