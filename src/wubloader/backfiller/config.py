"""The backfiller's configuration record and the parsing of its `--start` bound."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wubloader.runtime.config import check_base_dir
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.timeparse import parse as parse_timestamp
from wubloader.store.naming import MAX_NAME_BYTES

if TYPE_CHECKING:
    from pathlib import Path

MEGABYTE = 1_000_000
MEBIBYTE = 1024 * 1024
# Segment bodies: an init section, container overhead and tiny segments fit in this allowance; the
# rest must fit the bitrate. 100 Mbit/s is several times any live stream's top rendition.
SEGMENT_BYTES_ALLOWANCE = 2 * MEBIBYTE
DEFAULT_MAX_BITRATE = 100_000_000.0


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


def parse_amount(text: str) -> float:
    """A non-negative, finite number (a size, a rate); raises RuntimeConfigError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise RuntimeConfigError(f"expected a number, got {text[:64]!r}") from None
    if not math.isfinite(value) or value < 0:
        raise RuntimeConfigError(f"expected a non-negative number, got {text[:64]!r}")
    return value


def parse_rate(text: str) -> float:
    """`--max-rate` in MB/s (10^6 bytes) → bytes per second; 0 means no cap (None)."""
    try:
        return parse_amount(text) * MEGABYTE
    except RuntimeConfigError as exc:
        raise RuntimeConfigError(f"--max-rate: {exc} (MB/s)") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillerConfig:
    """Everything one backfiller needs; built once by `app.py` or by `wubloader node`.

    `channels`/`qualities` empty means every one the peers list. `downloaded_channels` names the
    channels this node downloads itself: only their segments wait `recent_cutoff` seconds (so the
    local downloader gets first go); None means every channel waits, as in the original.
    `concurrency` bounds simultaneous requests per peer; `max_rate` (bytes/s, None = unlimited)
    caps the total download rate across peers. `io_threads` bounds local writes/fsyncs in flight.
    A past hour found in sync is not listed again for `past_hour_relist` seconds (0 = every pass).

    Bounds against hostile or broken peers: a segment body may hold at most `max_bitrate` (bits/s)
    x its duration + SEGMENT_BYTES_ALLOWANCE; a transfer fails after `segment_timeout` seconds of
    network time (rate-limit waits excluded) or `read_timeout` seconds without PROGRESS_BYTES new
    bytes; an hour listing may hold `max_listing_names` names; parsed peer listings and local hour
    listings are cached within `listing_cache_bytes` and `local_cache_bytes`; at most
    `max_tombstones_per_hour` tombstones are created in one local hour directory.
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
    max_bitrate: float = DEFAULT_MAX_BITRATE
    max_listing_names: int = 50_000
    listing_cache_bytes: int = 64 * MEBIBYTE
    local_cache_bytes: int = 64 * MEBIBYTE
    max_tombstones_per_hour: int = 10_000

    def __post_init__(self) -> None:
        check_base_dir(self.base_dir)
        if not (math.isfinite(self.max_bitrate) and self.max_bitrate > 0):
            raise RuntimeConfigError(f"max_bitrate must be a positive number, got {self.max_bitrate}")
        if self.max_listing_names < 1:
            raise RuntimeConfigError(f"max_listing_names must be at least 1, got {self.max_listing_names}")
        for name in ("listing_cache_bytes", "local_cache_bytes", "max_tombstones_per_hour"):
            if getattr(self, name) < 0:
                raise RuntimeConfigError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.io_threads < 1:
            raise RuntimeConfigError(f"io_threads must be at least 1, got {self.io_threads}")
        if self.concurrency < 1:
            raise RuntimeConfigError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.max_rate is not None and self.max_rate <= 0:
            raise RuntimeConfigError(f"max_rate must be positive or None, got {self.max_rate}")
        if self.recent_cutoff < 0 or self.retry_attempts < 1 or self.breaker_threshold < 1:
            raise RuntimeConfigError("need recent_cutoff >= 0, retry_attempts >= 1, breaker_threshold >= 1")
        timeouts = (
            "pass_interval",
            "node_refresh_interval",
            "listing_timeout",
            "segment_timeout",
            "read_timeout",
        )
        for name in timeouts:
            if not getattr(self, name) > 0:
                raise RuntimeConfigError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def max_listing_bytes(self) -> int:
        """The body size `max_listing_names` JSON-quoted names of at most MAX_NAME_BYTES can take."""
        return self.max_listing_names * (MAX_NAME_BYTES + 4) + 2

    def max_segment_bytes(self, duration_seconds: float) -> int:
        """The largest plausible body of a segment this long (see the class docstring)."""
        return SEGMENT_BYTES_ALLOWANCE + int(self.max_bitrate / 8 * duration_seconds)

    def waits_for_downloader(self, channel: str) -> bool:
        """Whether segments of `channel` must be older than `recent_cutoff` before they are fetched."""
        return self.downloaded_channels is None or channel in self.downloaded_channels
