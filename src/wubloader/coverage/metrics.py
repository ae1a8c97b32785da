"""Coverage metrics: totals per channel and quality only (no per-hour labels on long-lived series)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LABELS = ["channel", "quality"]
SEGMENTS = Gauge(
    "wubloader_coverage_segments", "Visible segments, by type (bad = unparseable).", [*LABELS, "type"]
)
HOURS = Gauge("wubloader_coverage_hours", "Hours spanned by the map, first to last.", LABELS)
COVERED = Gauge(
    "wubloader_coverage_covered_seconds", "Time covered: by any segment, or by full ones.", [*LABELS, "kind"]
)
HOLES = Gauge("wubloader_coverage_holes", "Gaps over 10 ms between the first and last segment.", LABELS)
HOLE_SECONDS = Gauge("wubloader_coverage_hole_seconds", "Total length of those gaps.", LABELS)
OVERLAPS = Gauge(
    "wubloader_coverage_overlaps", "Segments starting over 10 ms before the previous ended.", LABELS
)
PASSES = Counter("wubloader_coverage_passes_total", "Coverage passes, by outcome (ok, error).", ["outcome"])
PASS_SECONDS = Gauge("wubloader_coverage_pass_duration_seconds", "How long the last coverage pass took.")
