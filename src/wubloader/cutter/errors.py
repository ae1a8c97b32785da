"""Errors of the cutter: upload outcomes the job runner classifies, and start-up configuration errors.

WubloaderError
└── CutterError
    ├── UploadError(retryable)     the backend KNOWS nothing was published (retryable or not)
    ├── UploadAmbiguous            the body was complete but the outcome is unknown (operator decides)
    ├── JobCancelled               the row is no longer ours (editor cancel/reset, lease lost)
    └── CutFailed                  ffmpeg or the store failed while cutting (not retryable)
RuntimeConfigError
└── LocationsError                 the locations/credentials file is unusable (exit 2 at start-up)
"""

from __future__ import annotations

from wubloader.errors import WubloaderError
from wubloader.runtime.errors import RuntimeConfigError


class CutterError(WubloaderError):
    """A job could not be cut or published."""


class UploadError(CutterError):
    """Raised only when the backend knows whether the upload happened: it did not.

    `retryable` True sends the job back to EDITED (a later attempt may succeed, e.g. a full disk or a
    network outage before the body was complete); False sends it to UNEDITED for an editor to fix.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        prefix = "Retryable" if retryable else "Non-retryable"
        super().__init__(f"{prefix} error while uploading: {message}")
        self.retryable = retryable


class UploadAmbiguous(CutterError):
    """The complete body was sent but the backend's answer was an error: it may or may not own a video."""


class JobCancelled(CutterError):
    """The row stopped being ours (reset, cancelled, or the lease went to another cutter)."""


class CutFailed(CutterError):
    """The cut itself failed (ffmpeg error, unreadable segment): an editor must look at the job."""


class LocationsError(RuntimeConfigError):
    """The locations JSON or the credentials file is missing, malformed or has unknown keys/types."""
