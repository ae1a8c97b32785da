"""The backfiller's Prometheus metrics; labelled by peer name only (a small, operator-defined set)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Created once at import, like runtime.metrics: the default registry refuses duplicate names.
SEGMENTS = Counter("wubloader_backfill_segments_total", "Segments copied from a peer.", ["peer"])
BYTES = Counter("wubloader_backfill_bytes_total", "Segment bytes copied from a peer.", ["peer"])
TOMBSTONES = Counter("wubloader_backfill_tombstones_total", "Tombstones copied from a peer.", ["peer"])
HASH_MISMATCHES = Counter(
    "wubloader_backfill_hash_mismatches_total", "Segments whose bytes did not match their name.", ["peer"]
)
ERRORS = Counter(
    "wubloader_backfill_errors_total",
    "Failed requests or writes, by kind (connection, timeout, http, not_found, bad_listing, local_io).",
    ["peer", "kind"],
)
BACKLOG = Gauge(
    "wubloader_backfill_backlog_segments",
    "Segments known missing locally that this peer has, after the last pass.",
    ["peer"],
)
LAST_SUCCESS = Gauge(
    "wubloader_backfill_last_success_timestamp_seconds",
    "Unix time of the last pass in which every listing and fetch from this peer succeeded.",
    ["peer"],
)
PASSES = Counter("wubloader_backfill_passes_total", "Backfill passes, by outcome.", ["outcome"])
PASS_DURATION = Histogram(
    "wubloader_backfill_pass_duration_seconds",
    "Wall time of one backfill pass.",
    buckets=(0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600),
)
NODE_LIST_ERRORS = Counter("wubloader_backfill_node_list_errors_total", "Failed node list refreshes.")
MISSING = Gauge("wubloader_backfill_missing_segments", "Segments still missing after the last pass.")
SKIPPED = Counter(
    "wubloader_backfill_skipped_total",
    "Items a peer offered that were refused, by reason (bad_name, too_large, tombstone_limit).",
    ["peer", "reason"],
)
UNREADABLE_HOURS = Counter(
    "wubloader_backfill_unreadable_hours_total",
    "Local hour directories that could not be read; the hour is skipped for that pass.",
)
