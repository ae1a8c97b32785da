"""The cutter's Prometheus metrics (bounded labels: channel, quality, location, final state)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

VIDEOS_UPLOADED = Counter(
    "cutter_videos_uploaded_total", "Videos published", ["video_channel", "video_quality", "upload_location"]
)
UPLOAD_ERRORS = Counter(
    "cutter_upload_errors_total",
    "Failed jobs by the state the row was left in (EDITED, UNEDITED, FINALIZING, MODIFIED)",
    ["video_channel", "video_quality", "upload_location", "final_state"],
)
NO_CANDIDATES = Counter("cutter_no_candidates_total", "Passes that found no job to claim")
CLAIM_CONFLICTS = Counter("cutter_claim_conflicts_total", "Claims lost to another cutter or an edit")
MISSING_DATA = Counter("cutter_missing_data_total", "Candidates skipped because this node lacks video")
JOBS_CANCELLED = Counter("cutter_jobs_cancelled_total", "Jobs stopped because the row was no longer ours")
LEASES_RELEASED = Counter("cutter_leases_released_total", "Expired claims of dead cutters returned to EDITED")
JOBS_RUNNING = Gauge("cutter_jobs_running", "Jobs being cut and uploaded now")
VIDEOS_TRANSCODING = Gauge("cutter_videos_transcoding", "Rows in TRANSCODING", ["location"])
VIDEOS_MARKED_DONE = Counter("cutter_videos_marked_done_total", "TRANSCODING rows marked DONE", ["location"])
VIDEOS_UPDATED = Counter("cutter_videos_updated_total", "MODIFIED rows brought back to DONE", ["location"])
JOB_SECONDS = Histogram(
    "cutter_job_seconds", "Claim to published", ["upload_location"], buckets=(1, 5, 15, 60, 300, 1800, 7200)
)
