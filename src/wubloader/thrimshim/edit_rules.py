"""The validation rules of an edit that need no database: ranges, transitions, thumbnail image, location.

Each raises BadRequest with the one-line reason the editor shows. Fixed from the original: a wrong
transition count is a 400, zero-length and open ranges are refused for a cut, unknown transition types
and transitions longer than their ranges are refused here instead of failing later in the cutter.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from wubloader.db.event_records import Transition, VideoRange
from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.media.transitions import TRANSITIONS
from wubloader.thrimshim.config import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from wubloader.thrimshim.errors import BadRequest
from wubloader.thrimshim.schemas import EDIT_NON_NULL

if TYPE_CHECKING:
    from wubloader.thrimshim.schemas import EditBody

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# YouTube refuses thumbnails over 2 MB.
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
MODIFY_NON_NULL = ("video_title", "video_description", "video_tags", "public", "thumbnail_mode")


def check_ranges(
    body: EditBody,
) -> tuple[tuple[VideoRange, ...] | None, tuple[Transition | None, ...] | None]:
    """The ranges and transitions as records, after every rule about them."""
    ranges, transitions = body.video_ranges, body.video_transitions
    if ranges is None:
        if transitions:
            raise BadRequest("video_transitions given without video_ranges")
        return None, None
    if not ranges:
        raise BadRequest("Ranges must contain at least one range")
    if transitions is None or len(transitions) != len(ranges) - 1:
        raise BadRequest(f"There must be exactly {len(ranges) - 1} transitions for {len(ranges)} ranges")
    cut = body.state is EventState.EDITED
    for number, (start, end) in enumerate(ranges, 1):
        if cut and (start is None or end is None):
            raise BadRequest(f"Range {number} needs both a start and an end to be cut")
        if start is not None and end is not None and start >= end:
            raise BadRequest(f"Range start must be less than end (range {number})")
    records = tuple(VideoRange(start=start, end=end) for start, end in ranges)
    return records, tuple(_transition(records, number, item) for number, item in enumerate(transitions))


def _transition(
    ranges: tuple[VideoRange, ...], index: int, item: tuple[str, float] | None
) -> Transition | None:
    if item is None:
        return None
    name, duration = item
    if name not in TRANSITIONS:
        raise BadRequest(
            f"unknown transition type {name[:64]!r} (transition {index + 1}); see /thrimshim/transitions"
        )
    for near in ranges[index : index + 2]:
        if (
            near.start is not None
            and near.end is not None
            and duration > (near.end - near.start).total_seconds()
        ):
            raise BadRequest(f"transition {index + 1} ({duration:g} s) is longer than an adjacent range")
    return Transition(type=name, duration=duration)


def decode_thumbnail(body: EditBody, stored: bytes | None) -> bytes | None:
    """The custom thumbnail to store: the uploaded PNG, else the stored one; None for other modes.

    An image sent back unchanged with another mode is the row echoed back, not an upload.
    """
    image = None
    if body.thumbnail_image is not None:
        try:
            image = base64.b64decode(body.thumbnail_image, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("thumbnail_image must be valid base64") from None
    if body.thumbnail_mode is not ThumbnailMode.CUSTOM:
        if image is not None and image != stored:
            raise BadRequest('Can only upload custom image when thumbnail_mode = "CUSTOM"')
        return None
    if image is None:
        image = stored
    if image is None:
        if body.state is not EventState.UNEDITED:
            raise BadRequest('thumbnail_image is required when thumbnail_mode = "CUSTOM"')
        return None
    if not image.startswith(PNG_SIGNATURE):
        raise BadRequest("thumbnail_image must be a PNG")
    if len(image) > MAX_THUMBNAIL_BYTES:
        raise BadRequest(f"thumbnail_image must be at most {MAX_THUMBNAIL_BYTES} bytes")
    return image


def check_location(body: EditBody, locations: tuple[str, ...]) -> None:
    if body.upload_location is not None and locations and body.upload_location not in locations:
        raise BadRequest(
            f"unknown upload_location {body.upload_location[:64]!r}: expected one of {', '.join(locations)}"
        )


def check_text(title: str | None, description: str | None) -> None:
    """Length and character rules on the stored (prefixed / footed) title and description."""
    if title is not None:
        if len(title) > TITLE_MAX_LENGTH:
            raise BadRequest(f"Title must be {TITLE_MAX_LENGTH} characters or less, including prefix")
        _no_angle_brackets("Title", title)
    if description is not None:
        if len(description) > DESCRIPTION_MAX_LENGTH:
            raise BadRequest(
                f"Description must be {DESCRIPTION_MAX_LENGTH} characters or less, including footer"
            )
        _no_angle_brackets("Description", description)


def _no_angle_brackets(what: str, text: str) -> None:
    for char in "<>":
        if char in text:
            raise BadRequest(f"{what} may not contain a {char} character")


def check_non_null(body: EditBody) -> None:
    """Fields a submitted (EDITED) or modified (MODIFIED) video needs, thumbnails included."""
    required = MODIFY_NON_NULL if body.state is EventState.MODIFIED else EDIT_NON_NULL
    missing = [name for name in required if getattr(body, name) is None]
    if missing:
        purpose = "for modified video" if body.state is EventState.MODIFIED else "for video to be cut"
        raise BadRequest(f"Fields must be non-null {purpose}: {', '.join(missing)}")
    if body.video_title is not None and not body.video_title.strip():
        raise BadRequest("Video title must not be blank")
    mode = body.thumbnail_mode
    if mode in (ThumbnailMode.BARE, ThumbnailMode.TEMPLATE) and body.thumbnail_time is None:
        raise BadRequest(f"thumbnail_time is required when thumbnail_mode = {mode.value!r}")
    if mode is ThumbnailMode.TEMPLATE and body.thumbnail_template is None:
        raise BadRequest("thumbnail_template is required when thumbnail_mode = 'TEMPLATE'")
