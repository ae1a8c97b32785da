"""Error classification: which row state each failure leads to (pure, no I/O)."""

from __future__ import annotations

import pytest

from wubloader.cutter.errors import CutFailed, UploadAmbiguous, UploadError
from wubloader.cutter.job_state import Outcome, classify
from wubloader.thumbnails.errors import ThumbnailTooBig


@pytest.mark.parametrize(
    "exc, progress, outcome, text",
    [
        (
            UploadError("disk full", retryable=True),
            "not finished",
            Outcome.RETRY,
            "Retryable error while uploading: disk full",
        ),
        (
            UploadError("400 bad", retryable=False),
            "finishing",
            Outcome.REJECTED,
            "Non-retryable error while uploading: 400 bad",
        ),
        (UploadAmbiguous("503"), "finishing", Outcome.AMBIGUOUS, "An error occurred during FINALIZING"),
        (CutFailed("ffmpeg exited 1"), "not finished", Outcome.REJECTED, "ffmpeg exited 1"),
        (ThumbnailTooBig("Thumbnail is too big"), "not finished", Outcome.REJECTED, "Thumbnail is too big"),
        (
            ConnectionResetError("reset"),
            "not finished",
            Outcome.RETRY,
            "Retryable error while uploading: ConnectionResetError",
        ),
        (
            ConnectionResetError("reset"),
            "finishing",
            Outcome.AMBIGUOUS,
            "please determine if video was actually uploaded",
        ),
    ],
)
def test_classify(exc, progress, outcome, text):
    got, message = classify(exc, progress)
    assert got is outcome
    assert text in message
