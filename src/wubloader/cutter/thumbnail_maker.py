"""A job's thumbnail PNG by mode: none, the stored one, the bare frame, or the frame in a template."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from wubloader.db.schema import ThumbnailMode
from wubloader.thumbnails.boxes import box_from
from wubloader.thumbnails.compose import check_size, compose
from wubloader.thumbnails.errors import ThumbnailsError
from wubloader.thumbnails.frames import frame_at
from wubloader.thumbnails.templates import load_template

if TYPE_CHECKING:
    from wubloader.db.database import Database
    from wubloader.db.event_records import EditInputs
    from wubloader.store.selection import SegmentIndex

FRAME_TIME_LIMIT = 60.0


async def make_thumbnail(
    edit: EditInputs, stored: bytes | None, *, index: SegmentIndex, database: Database
) -> bytes | None:
    """None for mode NONE; else the PNG (stored image reused), checked against the 2 MiB limit.

    Raises ThumbnailsError (no frame, bad template or boxes, too big) or media errors from decoding.
    """
    if edit.thumbnail_mode is ThumbnailMode.NONE:
        return None
    if stored is not None:
        return check_size(stored)
    if edit.thumbnail_mode is ThumbnailMode.CUSTOM:
        raise ThumbnailsError("mode CUSTOM but no thumbnail image is stored")
    if edit.thumbnail_time is None or edit.video_channel is None:
        raise ThumbnailsError("no thumbnail time")
    frame = await frame_at(
        index, edit.video_channel, edit.video_quality, edit.thumbnail_time, time_limit=FRAME_TIME_LIMIT
    )
    if edit.thumbnail_mode is ThumbnailMode.BARE:
        return check_size(frame)
    template = await load_template(database, edit.thumbnail_template or "")
    crop = box_from(edit.thumbnail_crop) if edit.thumbnail_crop is not None else None
    location = box_from(edit.thumbnail_location) if edit.thumbnail_location is not None else None
    return check_size(await asyncio.to_thread(compose, frame, template, crop, location))
