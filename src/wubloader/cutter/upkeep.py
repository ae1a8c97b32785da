"""After publishing: TranscodeChecker (TRANSCODING → DONE) and VideoUpdater (MODIFIED → DONE)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from wubloader.cutter import metrics
from wubloader.cutter.backend import VideoMetadata, merge_tags
from wubloader.cutter.errors import UploadError
from wubloader.cutter.thumbnail_maker import make_thumbnail
from wubloader.db import cutter_jobs as q
from wubloader.db import published_videos as pv
from wubloader.db.errors import DatabaseError
from wubloader.media.errors import MediaError
from wubloader.thumbnails.compose import thumbnail_hash
from wubloader.thumbnails.errors import ThumbnailsError

if TYPE_CHECKING:
    from wubloader.cutter.backend import UploadBackend
    from wubloader.cutter.job import JobServices
    from wubloader.db.published_videos import PublishedRow

logger = logging.getLogger(__name__)


class _LocationPoller:
    """One location's periodic pass over published rows; a failed pass is logged and retried later."""

    # What a pass may fail with and still be retried at the next one (anything else is a bug).
    retried: tuple[type[Exception], ...] = (DatabaseError, TimeoutError)
    what = "pass"

    def __init__(
        self, services: JobServices, location: str, backend: UploadBackend, *, interval: float
    ) -> None:
        self.services = services
        self.location = location
        self.backend = backend
        self.interval = interval

    async def run(self) -> None:
        """Forever: one pass, then sleep (twice as long after a failure)."""
        while True:
            try:
                await self.pass_once()
                pause = self.interval
            except self.retried as exc:
                logger.warning("%s for %s failed: %s", self.what, self.location, exc)
                pause = self.interval * 2
            await asyncio.sleep(pause)

    async def pass_once(self) -> object:
        raise NotImplementedError


class TranscodeChecker(_LocationPoller):
    """Polls the backend for TRANSCODING rows of one location and marks the processed ones DONE."""

    retried = (DatabaseError, UploadError, TimeoutError)
    what = "transcode check"

    async def pass_once(self) -> list[str]:
        return await self.check_once()

    async def check_once(self) -> list[str]:
        """Mark finished videos DONE; returns the ids marked by this pass."""
        database = self.services.database
        rows = await database.run(pv.transcoding_rows, self.location)
        metrics.VIDEOS_TRANSCODING.labels(self.location).set(len(rows))
        if not rows:
            return []
        finished = await self.backend.check_status([row.video_id for row in rows])
        ids = [row.id for row in rows if row.video_id in finished]
        marked = await database.run(pv.mark_transcoded, ids, now=self.services.now())
        metrics.VIDEOS_MARKED_DONE.labels(self.location).inc(len(marked))
        for job_id in marked:
            logger.info("%s finished processing: DONE", job_id)
        return marked


class VideoUpdater(_LocationPoller):
    """Pushes metadata (and a changed thumbnail) of MODIFIED rows to the backend, then marks them DONE."""

    what = "video update pass"

    async def pass_once(self) -> int:
        return await self.update_once()

    async def update_once(self) -> int:
        """Update every MODIFIED row of the location; returns how many reached DONE."""
        rows = await self.services.database.run(pv.modified_rows, self.location)
        done = 0
        for row in rows:
            try:
                done += await self._update(row)
            except UploadError as exc:
                if exc.retryable:  # e.g. a concurrent update (409): the next pass or node retries
                    logger.info("update of %s will be retried: %s", row.id, exc)
                    continue
                await self.services.database.run(
                    pv.fail_modified, row, error=f"Failed to update video: {exc}"
                )
            except (ThumbnailsError, MediaError) as exc:
                await self.services.database.run(
                    pv.fail_modified, row, error=f"Failed to update thumbnail: {exc}"
                )
        return done

    async def _update(self, row: PublishedRow) -> int:
        edit = row.edit
        video = VideoMetadata(
            title=edit.video_title or "",
            description=edit.video_description or "",
            tags=merge_tags(self.services.config.tags, edit.video_tags or ()),
            public=edit.public,
        )
        await self.backend.update_video(row.video_id, video)
        image, digest = None, None
        if q.needs_thumbnail(edit):
            png = await make_thumbnail(
                edit, edit.thumbnail_image, index=self.services.index, database=self.services.database
            )
            assert png is not None
            digest = thumbnail_hash(png)
            if digest != row.thumbnail_last_written:
                await self.backend.set_thumbnail(row.video_id, png)
            image = png
        moved = await self.services.database.run(
            pv.finish_modified, row, thumbnail_image=image, thumbnail_hash=digest
        )
        if not moved:
            logger.info("%s changed while being updated; the next pass redoes it", row.id)
            return 0
        metrics.VIDEOS_UPDATED.labels(self.location).inc()
        return 1
