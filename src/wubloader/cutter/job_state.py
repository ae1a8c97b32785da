"""What a failed job's error means for its row (reference error classification), and writing it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.cutter.errors import CutFailed, UploadAmbiguous, UploadError
from wubloader.db import cutter_jobs as q
from wubloader.thumbnails.errors import ThumbnailsError

if TYPE_CHECKING:
    from wubloader.db.cutter_jobs import Claim
    from wubloader.db.database import Database


class Outcome(enum.StrEnum):
    """How a job ended."""

    PUBLISHED = "published"
    RETRY = "retry"  # back to EDITED: nothing was published, another try may work
    REJECTED = "rejected"  # UNEDITED: an editor must fix the job
    AMBIGUOUS = "ambiguous"  # stays FINALIZING: an operator must check the backend
    CANCELLED = "cancelled"  # the row stopped being ours


@dataclass(frozen=True, slots=True, kw_only=True)
class JobOutcome:
    """The outcome, a one-line message, and the row state written for a failure (for metrics)."""

    outcome: Outcome
    message: str
    final_state: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome is Outcome.PUBLISHED


_STATE = {Outcome.RETRY: "EDITED", Outcome.REJECTED: "UNEDITED", Outcome.AMBIGUOUS: "FINALIZING"}


def classify(exc: BaseException, progress: str) -> tuple[Outcome, str]:
    """The outcome of a failure given how far the upload got (`not finished` / `finishing`).

    Typed UploadErrors say themselves; cut and thumbnail failures need an editor; anything else is
    retryable before the last byte and ambiguous after it.
    """
    if isinstance(exc, UploadError):
        return (Outcome.RETRY if exc.retryable else Outcome.REJECTED), str(exc)
    if isinstance(exc, UploadAmbiguous):
        return Outcome.AMBIGUOUS, f"{q.FINALIZING_NOTE} ({exc})"
    if isinstance(exc, CutFailed | ThumbnailsError):
        return Outcome.REJECTED, str(exc)
    if progress == "finishing":
        return Outcome.AMBIGUOUS, f"{q.FINALIZING_NOTE} ({type(exc).__name__}: {exc})"
    return Outcome.RETRY, f"Retryable error while uploading: {type(exc).__name__}: {exc}"


async def write_outcome(database: Database, claim: Claim, exc: BaseException, progress: str) -> JobOutcome:
    """Classify `exc` and move the row accordingly (guarded: a row no longer ours is left alone)."""
    outcome, message = classify(exc, progress)
    writer = {
        Outcome.RETRY: q.return_to_edited,
        Outcome.REJECTED: q.return_to_unedited,
        Outcome.AMBIGUOUS: q.note_finalizing_error,
    }[outcome]
    moved = await database.run(writer, claim, error=f"{claim.uploader}: {message}"[:2000])
    if moved is None:
        return JobOutcome(outcome=Outcome.CANCELLED, message=f"row no longer ours; not recorded: {message}")
    return JobOutcome(outcome=outcome, message=message, final_state=_STATE[outcome])
