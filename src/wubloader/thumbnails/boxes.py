"""Boxes and templates as plain values: parsed from queries and database rows without loading Pillow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.thumbnails.errors import BadBox

if TYPE_CHECKING:
    from collections.abc import Sequence


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
