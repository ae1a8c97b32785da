"""The backfiller's configuration record and the parsing of its `--start` bound."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.timeparse import parse as parse_timestamp

if TYPE_CHECKING:
    from pathlib import Path

MEGABYTE = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class StartBound:
    """How far back to backfill: `hours` before now, or an absolute naive-UTC time `at`."""

    hours: float | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        if (self.hours is None) == (self.at is None):
            raise RuntimeConfigError("a start bound needs exactly one of hours or at")
        if self.hours is not None and not (math.isfinite(self.hours) and self.hours >= 0):
            raise RuntimeConfigError(f"--start hours must be a non-negative number, got {self.hours!r}")

    def cutoff(self, now: datetime) -> datetime:
        """The earliest time to backfill, given the current time."""
        if self.at is not None:
            return self.at
        assert self.hours is not None
        return now - timedelta(hours=self.hours)


def parse_start(text: str) -> StartBound:
    """`--start`: a number of hours ago (`24`, `1.5`) or a timestamp (`2024-05-01T10:00`, any ISO-8601)."""
    stripped = text.strip()
    try:
        hours = float(stripped)
    except ValueError:
        return StartBound(at=parse_timestamp(stripped))
    return StartBound(hours=hours)


def parse_rate(text: str) -> float:
    """`--max-rate` in MB/s (10^6 bytes) → bytes per second; 0 means no cap (None)."""
    try:
        value = float(text)
    except ValueError:
        raise RuntimeConfigError(f"--max-rate must be a number of MB/s, got {text[:64]!r}") from None
    if not math.isfinite(value) or value < 0:
        raise RuntimeConfigError(f"--max-rate must be a non-negative number of MB/s, got {text[:64]!r}")
    return value * MEGABYTE


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillerConfig:
    """Everything one backfiller needs; built once by `app.py` or by `wubloader node`.

    `channels`/`qualities` empty means every one the peers list. `downloaded_channels` names the
    channels this node downloads itself: only their segments wait `recent_cutoff` seconds (so the
    local downloader gets first go); None means every channel waits, as in the original.
    `concurrency` bounds simultaneous requests per peer; `max_rate` (bytes/s, None = unlimited)
    caps the total download rate across peers. `io_threads` bounds local writes/fsyncs in flight.
    A past hour found in sync is not listed again for `past_hour_relist` seconds (0 = every pass).
    """

    base_dir: Path
    channels: tuple[str, ...] = ()
    qualities: tuple[str, ...] = ()
    start: StartBound | None = None
    recent_cutoff: float = 120.0
    downloaded_channels: frozenset[str] | None = None
    concurrency: int = 5
    max_rate: float | None = None
    pass_interval: float = 30.0
    node_refresh_interval: float = 30.0
    listing_timeout: float = 15.0
    segment_timeout: float = 120.0
    read_timeout: float = 20.0
    retry_attempts: int = 5
    retry_initial: float = 0.5
    retry_maximum: float = 30.0
    breaker_threshold: int = 3
    breaker_initial: float = 1.0
    breaker_maximum: float = 60.0
    mismatch_memory: float = 3600.0
    drain_timeout: float = 10.0
    io_threads: int = 16
    past_hour_relist: float = 300.0

    def __post_init__(self) -> None:
        if self.io_threads < 1:
            raise RuntimeConfigError(f"io_threads must be at least 1, got {self.io_threads}")
        if self.concurrency < 1:
            raise RuntimeConfigError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.max_rate is not None and self.max_rate <= 0:
            raise RuntimeConfigError(f"max_rate must be positive or None, got {self.max_rate}")
        if self.recent_cutoff < 0 or self.retry_attempts < 1 or self.breaker_threshold < 1:
            raise RuntimeConfigError("need recent_cutoff >= 0, retry_attempts >= 1, breaker_threshold >= 1")
        for name in ("pass_interval", "node_refresh_interval", "listing_timeout", "segment_timeout"):
            if not getattr(self, name) > 0:
                raise RuntimeConfigError(f"{name} must be positive, got {getattr(self, name)}")

    def waits_for_downloader(self, channel: str) -> bool:
        """Whether segments of `channel` must be older than `recent_cutoff` before they are fetched."""
        return self.downloaded_channels is None or channel in self.downloaded_channels
