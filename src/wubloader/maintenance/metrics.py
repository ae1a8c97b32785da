"""Prometheus metrics of the continuous scrub and of retention (labels bounded: no paths, no hours)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SCRUB_FILES = Counter(
    "wubloader_scrub_files_total", "Segment files re-hashed by the scrub, by result.", ["result"]
)
SCRUB_BYTES = Counter("wubloader_scrub_bytes_total", "Bytes re-hashed by the scrub.")
SCRUB_PASSES = Counter("wubloader_scrub_passes_total", "Complete scrub passes over the store.")
SCRUB_LAST_PASS = Gauge(
    "wubloader_scrub_last_pass_end_timestamp_seconds", "When the last complete scrub pass ended (Unix time)."
)
RETENTION_HOURS = Counter("wubloader_retention_hours_deleted_total", "Hour directories deleted by --keep.")
RETENTION_BYTES = Counter("wubloader_retention_bytes_deleted_total", "Bytes deleted by --keep.")
