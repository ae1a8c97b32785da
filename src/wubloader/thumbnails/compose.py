"""Pure image work for thumbnails: template composition (Pillow), size limit and hash. No I/O."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from wubloader.thumbnails.errors import BadImage, ThumbnailTooBig

if TYPE_CHECKING:
    from wubloader.thumbnails.boxes import Box, Template

MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
# Decompression-bomb guard for uploaded templates (a 1280x720 template is 0.9 Mpx).
MAX_PIXELS = 16_000_000


def _open(data: bytes, what: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise BadImage(f"{what} is too large ({image.width}x{image.height})")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadImage(f"{what} is not a readable image: {exc}") from exc
    return image.convert("RGBA")


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def compose(
    frame_png: bytes, template: Template, crop: Box | None = None, location: Box | None = None
) -> bytes:
    """The frame cropped to `crop`, scaled (Lanczos) into `location` under the template, as PNG.

    Missing boxes fall back to the template's. The template is drawn over the frame, so its
    transparent areas show the frame. Raises BadImage, BadBox. CPU-bound: call via to_thread.
    """
    crop = crop or template.crop
    location = location or template.location
    frame = _open(frame_png, "the video frame")
    overlay = _open(template.image, "the template")
    crop.check_inside(frame.width, frame.height, "crop")
    location.check_inside(overlay.width, overlay.height, "location")
    scaled = frame.crop(crop.as_tuple()).resize(location.size, Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", overlay.size)
    canvas.paste(scaled, (location.left, location.top))
    return _png(Image.alpha_composite(canvas, overlay))


def check_size(png: bytes) -> bytes:
    """`png` unchanged if within MAX_THUMBNAIL_BYTES, else ThumbnailTooBig."""
    if len(png) > MAX_THUMBNAIL_BYTES:
        raise ThumbnailTooBig(
            f"Thumbnail is too big ({len(png) / 2**20:.1f}MB, max {MAX_THUMBNAIL_BYTES / 2**20:.0f}MB)"
        )
    return png


def thumbnail_hash(png: bytes) -> bytes:
    """The raw SHA-256 stored in `thumbnail_last_written`, so an unchanged thumbnail is not re-sent."""
    return hashlib.sha256(png).digest()
