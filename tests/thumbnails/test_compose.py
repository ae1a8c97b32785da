"""Template composition: the cropped frame shows through the template's transparent window, scaled."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from wubloader.thumbnails.boxes import Box, Template, box_from, parse_box
from wubloader.thumbnails.compose import MAX_THUMBNAIL_BYTES, check_size, compose, thumbnail_hash
from wubloader.thumbnails.errors import BadBox, BadImage, ThumbnailTooBig


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def frame_png() -> bytes:
    """192x108: left half red, right half blue."""
    image = Image.new("RGB", (192, 108), (255, 0, 0))
    image.paste((0, 0, 255), (96, 0, 192, 108))
    return png(image)


def template() -> Template:
    """128x72 opaque green with a transparent window at (64, 0)-(128, 36)."""
    image = Image.new("RGBA", (128, 72), (0, 255, 0, 255))
    image.paste((0, 0, 0, 0), (64, 0, 128, 36))
    return Template(
        image=png(image),
        crop=Box(left=96, top=0, right=192, bottom=54),
        location=Box(left=64, top=0, right=128, bottom=36),
    )


def pixel(data: bytes, xy: tuple[int, int]) -> tuple[int, ...]:
    return Image.open(io.BytesIO(data)).convert("RGBA").getpixel(xy)


def test_default_boxes_put_the_blue_half_in_the_window():
    out = compose(frame_png(), template())
    assert Image.open(io.BytesIO(out)).size == (128, 72)
    assert pixel(out, (96, 18)) == (0, 0, 255, 255)  # the crop (blue) fills the window
    assert pixel(out, (10, 60)) == (0, 255, 0, 255)  # template elsewhere


def test_explicit_crop_overrides_the_template_default():
    out = compose(frame_png(), template(), crop=Box(left=0, top=0, right=96, bottom=54))
    assert pixel(out, (96, 18)) == (255, 0, 0, 255)


def test_boxes_checked():
    with pytest.raises(BadBox, match="outside"):
        compose(frame_png(), template(), crop=Box(left=0, top=0, right=500, bottom=54))
    with pytest.raises(BadBox):
        Box(left=5, top=0, right=5, bottom=1)
    with pytest.raises(BadBox):
        box_from([1, 2, 3])
    assert parse_box("1,2,3,4") == Box(left=1, top=2, right=3, bottom=4)
    with pytest.raises(BadBox):
        parse_box("1,2,x,4")


def test_bad_template_image():
    broken = Template(image=b"not a png", crop=template().crop, location=template().location)
    with pytest.raises(BadImage):
        compose(frame_png(), broken)


def test_size_limit_and_hash():
    assert check_size(b"x" * MAX_THUMBNAIL_BYTES) == b"x" * MAX_THUMBNAIL_BYTES
    with pytest.raises(ThumbnailTooBig, match=r"Thumbnail is too big \(2.0MB, max 2MB\)"):
        check_size(b"x" * (MAX_THUMBNAIL_BYTES + 1))
    assert thumbnail_hash(b"abc") == hashlib.sha256(b"abc").digest()
