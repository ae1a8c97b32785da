"""Pure image work for thumbnails: boxes, template composition (Pillow), size limit and hash. No I/O."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from wubloader.thumbnails.errors import BadBox, BadImage, ThumbnailTooBig

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
# Decompression-bomb guard for uploaded templates (a 1280x720 template is 0.9 Mpx).
MAX_PIXELS = 16_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Box:
    """(left, top, right, bottom) in pixels, right/bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    def __post_init__(self) -> None:
        if self.right <= self.left or self.bottom <= self.top or min(self.left, self.top) < 0:
            raise BadBox(f"box {self.as_tuple()} must have right > left >= 0 and bottom > top >= 0")

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)

    @property
    def size(self) -> tuple[int, int]:
        return (self.right - self.left, self.bottom - self.top)

    def check_inside(self, width: int, height: int, what: str) -> None:
        """BadBox unless the box lies within a `width`x`height` image."""
        if self.right > width or self.bottom > height:
            raise BadBox(f"{what} box {self.as_tuple()} is outside the {width}x{height} image")


def box_from(values: Sequence[int]) -> Box:
    """A Box from 4 integers (the DB's box_coords); BadBox otherwise."""
    if len(values) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise BadBox("a box is 4 integers: left, top, right, bottom")
    return Box(left=values[0], top=values[1], right=values[2], bottom=values[3])


def parse_box(text: str) -> Box:
    """`L,T,R,B` (query parameters) → Box; BadBox on anything else."""
    try:
        return box_from([int(part) for part in text.split(",")])
    except ValueError as exc:
        raise BadBox(f"box must be four integers L,T,R,B: {exc}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A template PNG and where its frame goes by default (crop of the frame, location in the template)."""

    image: bytes
    crop: Box
    location: Box


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
