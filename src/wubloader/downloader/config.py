"""The downloader's configuration record, validated once when built (from the CLI or by `wubloader node`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.runtime.config import check_base_dir
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.store.errors import UnsafePath
from wubloader.store.naming import check_component

if TYPE_CHECKING:
    from pathlib import Path

TWITCH_SOURCE = "twitch"
TWITCH_API_URL = "https://gql.twitch.tv/gql"
TWITCH_USHER_URL = "https://usher.ttvnw.net"
TWITCH_USHER_APIS = ("v1", "v2")
TWITCH_USHER_API = "v2"
# Twitch media URLs expire after ~24 h; roll over to a fresh one well before that.
TWITCH_URL_MAX_AGE = 20 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TwitchConfig:
    """Where twitch's APIs live (overridable so tests can point at a local fake) and how to authenticate."""

    api_url: str = TWITCH_API_URL
    usher_url: str = TWITCH_USHER_URL
    auth_token: str | None = None
    url_max_age: float = TWITCH_URL_MAX_AGE
    usher_api: str = TWITCH_USHER_API

    def __post_init__(self) -> None:
        if self.usher_api not in TWITCH_USHER_APIS:
            raise RuntimeConfigError(f"usher API must be one of {', '.join(TWITCH_USHER_APIS)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DownloaderConfig:
    """Everything one downloader (one channel, several qualities) needs.

    `source` is an http(s) URL of a master or media playlist, or `twitch`. Timings are seconds.
    `suspect_after`: a segment whose fetch took at least this long is stored as `suspect` (twitch
    ends stuck requests at ~60 s with a cleanly terminated but truncated body). `give_up_after`
    bounds retries of one segment. `stop_timeout` is how long a graceful stop lets in-flight segment
    writes finish before aborting them (removing their temp files). Plausibility: a segment longer
    than `max_segment_duration` seconds is refused, and a body over `max_bitrate` (bits/s) * its
    duration is abandoned (a broken or hostile source must not fill the disk).
    """

    channel: str
    source: str
    base_dir: Path
    qualities: tuple[str, ...] = ("source",)
    twitch: TwitchConfig = TwitchConfig()
    poll_interval: float = 1.0
    master_interval: float = 5.0
    playlist_timeout: float = 5.0
    segment_timeout: float = 240.0
    segment_read_timeout: float = 60.0
    suspect_after: float = 59.0
    give_up_after: float = 1200.0
    retry_initial: float = 0.5
    retry_max: float = 16.0
    max_concurrent_fetches: int = 16
    future_tolerance: float = 300.0
    stop_timeout: float = 10.0
    max_segment_duration: float = 120.0
    max_bitrate: float = 80e6

    def __post_init__(self) -> None:
        try:
            check_component(self.channel)
            for quality in self.qualities:
                check_component(quality)
        except UnsafePath as exc:
            raise RuntimeConfigError(f"bad channel or quality name: {exc}") from exc
        if not self.qualities:
            raise RuntimeConfigError("at least one quality is needed")
        if self.source != TWITCH_SOURCE and not self.source.startswith(("http://", "https://")):
            raise RuntimeConfigError(f"--source must be an http(s) URL or 'twitch', got {self.source[:64]!r}")
        check_base_dir(self.base_dir)
        positive = {
            "poll_interval": self.poll_interval,
            "master_interval": self.master_interval,
            "playlist_timeout": self.playlist_timeout,
            "segment_timeout": self.segment_timeout,
            "segment_read_timeout": self.segment_read_timeout,
            "suspect_after": self.suspect_after,
            "retry_initial": self.retry_initial,
            "retry_max": self.retry_max,
            "max_concurrent_fetches": self.max_concurrent_fetches,
            "max_segment_duration": self.max_segment_duration,
            "max_bitrate": self.max_bitrate,
        }
        for name, value in positive.items():
            if not value > 0:
                raise RuntimeConfigError(f"{name} must be positive, got {value!r}")
        if self.give_up_after < 0 or self.stop_timeout < 0:
            raise RuntimeConfigError("give_up_after and stop_timeout must not be negative")

    @property
    def is_twitch(self) -> bool:
        return self.source == TWITCH_SOURCE
