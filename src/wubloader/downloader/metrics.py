"""The downloader's Prometheus metrics; every label comes from a small closed set (channel, quality, kind).

The metric objects are created once, at import: prometheus_client's default registry refuses a second
metric with the same name, so creating them per Downloader (or per test) would fail.
"""

from __future__ import annotations

import enum

from prometheus_client import Counter, Gauge, Histogram

FETCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class ErrorKind(enum.StrEnum):
    """What went wrong (the `kind` label of the errors counter)."""

    PLAYLIST_HTTP = "playlist_http"
    PLAYLIST_TIMEOUT = "playlist_timeout"
    PLAYLIST_CONNECTION = "playlist_connection"
    PLAYLIST_PARSE = "playlist_parse"
    PLAYLIST_LINE = "playlist_line"
    IMPLAUSIBLE = "implausible"
    SEGMENT_HTTP = "segment_http"
    SEGMENT_TIMEOUT = "segment_timeout"
    SEGMENT_CONNECTION = "segment_connection"
    SEGMENT_GONE = "segment_gone"
    SEGMENT_GAVE_UP = "segment_gave_up"
    SEGMENT_WRITE = "segment_write"
    SEGMENT_TOO_LARGE = "segment_too_large"
    ENCRYPTED = "encrypted"
    MASTER = "master"
    PROVIDER = "provider"
    OFFLINE = "offline"
    WORKER_CRASH = "worker_crash"


class FetchWhat(enum.StrEnum):
    """What a timed fetch was for (the `what` label of the latency histogram)."""

    MASTER = "master"
    PLAYLIST = "playlist"
    SEGMENT = "segment"
    INIT = "init"


SEGMENTS = Counter(
    "wubloader_downloader_segments_total",
    "Segments written to the store, by type (full, suspect, partial).",
    ["channel", "quality", "type"],
)
SEGMENT_BYTES = Counter(
    "wubloader_downloader_segment_bytes_total",
    "Bytes written to the store in segment files (init sections included).",
    ["channel", "quality"],
)
FETCH_LATENCY = Histogram(
    "wubloader_downloader_fetch_duration_seconds",
    "Time to fetch a master playlist, media playlist, segment or init section (successful fetches).",
    ["quality", "what"],
    buckets=FETCH_BUCKETS,
)
ERRORS = Counter(
    "wubloader_downloader_errors_total",
    "Failures, by kind; none of them stops the archive.",
    ["channel", "quality", "kind"],
)
NEWEST_SEGMENT_AGE = Gauge(
    "wubloader_downloader_newest_segment_age_seconds",
    "Now minus the end of the newest stored segment (the stream delay); grows while nothing arrives.",
    ["channel", "quality"],
)
LATEST_SEGMENT = Gauge(
    "wubloader_downloader_latest_segment_timestamp_seconds",
    "Unix time of the start of the newest stored full or suspect segment.",
    ["channel", "quality"],
)
ADS_SKIPPED = Counter(
    "wubloader_downloader_ad_segments_skipped_total",
    "Advertisement segments seen and not stored, by detection reason.",
    ["channel", "quality", "reason"],
)
TIMESTAMP_SKEWS = Counter(
    "wubloader_downloader_timestamp_skews_total",
    "Twitch playlists whose PROGRAM-DATE-TIME jumped; the worker's later segments are stored suspect.",
    ["channel", "quality"],
)
WORKERS = Gauge(
    "wubloader_downloader_workers",
    "Media playlist workers running (more than one during a URL handover).",
    ["channel", "quality"],
)
