"""One claimed job: thumbnail, cut streamed into the backend, lease kept alive, outcome written back.

The lease watcher renews the claim every `check_interval` s; when a renewal matches nothing (an editor
reset or re-edited the row, or the lease went to another cutter) it cancels the work, which kills
ffmpeg and abandons the upload: nothing is published.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from wubloader.cutter import metrics
from wubloader.cutter.backend import VideoMetadata, merge_tags
from wubloader.cutter.errors import CutFailed, JobCancelled, UploadAmbiguous, UploadError
from wubloader.cutter.job_state import JobOutcome, Outcome, write_outcome
from wubloader.cutter.thumbnail_maker import make_thumbnail
from wubloader.db import cutter_jobs as q
from wubloader.db.errors import DatabaseError
from wubloader.media.cut_engine import CutOptions, prepare_cut
from wubloader.media.cut_plan import CutType
from wubloader.media.errors import MediaError
from wubloader.store.errors import StoreError
from wubloader.thumbnails.compose import thumbnail_hash
from wubloader.thumbnails.errors import ThumbnailsError

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable
    from datetime import datetime

    from wubloader.cutter.backend import PublishedVideo, UploadBackend
    from wubloader.cutter.candidates import CutInputs
    from wubloader.cutter.config import CutterConfig
    from wubloader.cutter.locations import Location
    from wubloader.db.cutter_jobs import Claim, CutJob
    from wubloader.db.database import Database
    from wubloader.store.selection import SegmentIndex

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Progress(enum.Enum):
    """How far the upload got: decides what an error means (reference state machine)."""

    NOT_FINISHED = "not finished"  # failure: nothing published → EDITED
    FINISHING = "finishing"  # last byte handed over: failure is ambiguous → FINALIZING
    FINISHED = "finished"  # the backend owns a video
    SETTLED = "settled"  # the final state is written


@dataclass(frozen=True, slots=True, kw_only=True)
class JobServices:
    """What every job needs, shared by the runner's jobs."""

    config: CutterConfig
    database: Database
    index: SegmentIndex
    now: Callable[[], datetime]


class JobRun:
    """Runs one claimed job to a final row state; `run()` returns the outcome (never raises, but cancels)."""

    def __init__(
        self,
        services: JobServices,
        job: CutJob,
        claim: Claim,
        inputs: CutInputs,
        location: Location,
        backend: UploadBackend,
    ) -> None:
        self.services = services
        self.job = job
        self.claim = claim
        self.inputs = inputs
        self.location = location
        self.backend = backend
        self.progress = Progress.NOT_FINISHED
        self.lost = False
        self.stopping = False
        self._lock = asyncio.Lock()  # serialises claim writes: each one changes the version
        self._work: asyncio.Task[JobOutcome] | None = None
        self._lease = timedelta(seconds=services.config.lease)

    @property
    def labels(self) -> dict[str, str]:
        edit = self.job.edit
        return {
            "video_channel": edit.video_channel or "",
            "video_quality": edit.video_quality,
            "upload_location": self.location.name,
        }

    def stop(self) -> None:
        """Graceful stop timed out: cancel the work; the job goes back to EDITED if nothing was published."""
        self.stopping = True
        if self._work is not None:
            self._work.cancel()

    async def run(self) -> JobOutcome:
        """Work and lease watcher side by side; the outcome is already written to the row."""
        started = time.monotonic()
        async with asyncio.TaskGroup() as group:
            self._work = group.create_task(self._classified())
            group.create_task(self._watch(self._work))
        if self._work.cancelled():
            return await self._after_cancel()
        outcome = self._work.result()
        if outcome.outcome is Outcome.PUBLISHED:
            metrics.JOB_SECONDS.labels(self.location.name).observe(time.monotonic() - started)
        return outcome

    async def _watch(self, work: asyncio.Task[JobOutcome]) -> None:
        config = self.services.config
        last_ok = time.monotonic()
        while True:
            await asyncio.wait({work}, timeout=config.check_interval)
            if work.done():
                return
            async with self._lock:
                if self.progress is Progress.SETTLED:
                    return
                try:
                    owned = await self._db(
                        q.renew_lease, self.claim, now=self.services.now(), lease=self._lease
                    )
                    last_ok = time.monotonic()
                except (DatabaseError, TimeoutError) as exc:
                    logger.warning("job %s: cannot renew the lease: %s", self.job.id, exc)
                    owned = time.monotonic() - last_ok < config.lease
            if not owned:
                logger.info(
                    "job %s: the row is no longer ours (reset, edited or lease lost): stopping", self.job.id
                )
                self.lost = True
                work.cancel()
                return

    async def _db(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await self.services.database.run(fn, *args, **kwargs)

    async def _after_cancel(self) -> JobOutcome:
        if self.lost:
            metrics.JOBS_CANCELLED.inc()
            return JobOutcome(outcome=Outcome.CANCELLED, message="the row was reset or taken over")
        if self.progress is Progress.NOT_FINISHED:
            message = f"cutter {self.claim.uploader} stopped before the job finished"
            return await self._finish_failure(UploadError(message, retryable=True))
        # The last byte was already handed over: whether the video exists is for an operator to check.
        return await self._finish_failure(
            UploadAmbiguous(f"cutter {self.claim.uploader} stopped while finishing")
        )

    async def _classified(self) -> JobOutcome:
        try:
            return await self._publish()
        except JobCancelled as exc:
            metrics.JOBS_CANCELLED.inc()
            return JobOutcome(outcome=Outcome.CANCELLED, message=str(exc))
        except Exception as exc:  # the top of the job: every failure is classified and written
            logger.warning(
                "job %s failed (%s): %s",
                self.job.id,
                self.progress.value,
                exc,
                exc_info=not isinstance(exc, UploadError | CutFailed | ThumbnailsError),
            )
            return await self._finish_failure(exc)

    async def _finish_failure(self, exc: BaseException) -> JobOutcome:
        async with self._lock:
            outcome = await write_outcome(self.services.database, self.claim, exc, self.progress.value)
            self.progress = Progress.SETTLED
        if outcome.final_state is not None:
            metrics.UPLOAD_ERRORS.labels(**self.labels, final_state=outcome.final_state).inc()
        return outcome

    async def _publish(self) -> JobOutcome:
        edit = self.job.edit
        png = await self._thumbnail()
        video = VideoMetadata(
            title=edit.video_title or "",
            description=edit.video_description or "",
            tags=merge_tags(self.services.config.tags, edit.video_tags or ()),
            public=edit.public,
        )
        stream = await self._prepare()
        body = self._body(stream)
        try:
            published = await self.backend.upload_video(video, body)
        finally:
            await body.aclose()
        self.progress = Progress.FINISHED
        return await self._settle(published, png)

    async def _thumbnail(self) -> bytes | None:
        """Raises ThumbnailsError (→ UNEDITED); a generated image is cached on the row."""
        if not q.needs_thumbnail(self.job.edit):
            return None
        stored = await self._db(q.load_thumbnail_image, self.claim) if self.job.has_thumbnail_image else None
        try:
            png = await make_thumbnail(
                self.job.edit, stored, index=self.services.index, database=self.services.database
            )
        except MediaError as exc:
            raise ThumbnailsError(f"Thumbnail: {exc}") from exc
        if png is not None and stored is None:
            await self._write(q.save_thumbnail_image, png)
        return png

    async def _prepare(self) -> AsyncGenerator[bytes | bytearray, None]:
        options = CutOptions(full_encode_args=self.location.encode_args)
        if self.location.cut_type is CutType.ROUGH and any(self.inputs.transitions):
            raise CutFailed("an archive copy keeps whole segments: it cannot have transitions")
        try:
            return await prepare_cut(
                self.location.cut_type,
                self.inputs.ranges,
                self.inputs.transitions,
                self.inputs.chains,
                allow_holes=self.job.edit.allow_holes,
                options=options,
            )
        except (MediaError, StoreError, OSError) as exc:
            raise CutFailed(f"Cannot cut: {exc}") from exc

    async def _body(self, stream: AsyncGenerator[bytes | bytearray, None]) -> AsyncGenerator[bytes, None]:
        """The cut as the upload body; after its last byte, and before the backend answers: FINALIZING."""
        try:
            async for chunk in stream:
                yield bytes(chunk)
        except (MediaError, StoreError, OSError) as exc:
            raise CutFailed(f"Unhandled exception while cutting: {exc}") from exc
        finally:
            await stream.aclose()
        await self._write(q.mark_finalizing)
        self.progress = Progress.FINISHING

    async def _write(self, fn: Callable[..., Claim | None], *args: object) -> None:
        """A guarded write; JobCancelled when the row is no longer ours."""
        async with self._lock:
            claim = await self._db(fn, self.claim, *args)
            if claim is None:
                raise JobCancelled(f"job {self.job.id} is no longer ours")
            self.claim = claim

    async def _settle(self, published: PublishedVideo, png: bytes | None) -> JobOutcome:
        now = self.services.now()
        if png is not None:
            try:
                await self.backend.set_thumbnail(published.video_id, png)
            except Exception as exc:  # the video is up: record, let an operator retry the thumbnail
                logger.warning("job %s: thumbnail failed after upload: %s", self.job.id, exc)
                async with self._lock:
                    await self._db(
                        q.mark_thumbnail_failed,
                        self.claim,
                        video_id=published.video_id,
                        video_link=published.video_link,
                        now=now,
                        error=f"Error setting thumbnail: {exc}",
                    )
                    self.progress = Progress.SETTLED
                metrics.UPLOAD_ERRORS.labels(**self.labels, final_state="MODIFIED").inc()
                return JobOutcome(outcome=Outcome.PUBLISHED, message="published without its thumbnail")
        async with self._lock:
            claim = await self._db(
                q.mark_published,
                self.claim,
                video_id=published.video_id,
                video_link=published.video_link,
                transcoding=self.backend.needs_transcode,
                now=now,
                thumbnail_hash=None if png is None else thumbnail_hash(png),
            )
            self.progress = Progress.SETTLED
        if claim is None:
            logger.error(
                "job %s: published as %s but the row changed meanwhile; not recorded",
                self.job.id,
                published.video_link,
            )
        metrics.VIDEOS_UPLOADED.labels(**self.labels).inc()
        logger.info("job %s published: %s", self.job.id, published.video_link)
        return JobOutcome(outcome=Outcome.PUBLISHED, message=published.video_link)
