"""The coverage map PNG: 1 px = 2 s, 300 px (10 min) per column, columns left to right, written atomically.

Colours are from the Okabe-Ito palette, told apart by readers with any common colour-vision deficiency:
blue = full, orange = only suspect/partial, white = missing.
"""

from __future__ import annotations

import io
import os
import uuid
from typing import TYPE_CHECKING

from PIL import Image

from wubloader.coverage.timeline import FULL, MISSING, PARTIAL

if TYPE_CHECKING:
    from pathlib import Path

ROWS = 300
COLOURS = {MISSING: (0xFF, 0xFF, 0xFF), PARTIAL: (0xE6, 0x9F, 0x00), FULL: (0x00, 0x72, 0xB2)}


def render_map(pixels: bytes) -> bytes:
    """PNG bytes of a timeline (one byte per 2 s pixel; its length a multiple of ROWS)."""
    columns = max(1, len(pixels) // ROWS)
    padded = pixels.ljust(columns * ROWS, bytes([MISSING]))
    # Time runs down each column: row r of the image is every ROWS-th pixel starting at r.
    raster = b"".join(padded[row::ROWS] for row in range(ROWS))
    image = Image.frombytes("P", (columns, ROWS), raster)
    image.putpalette([channel for index in sorted(COLOURS) for channel in COLOURS[index]])
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a hidden temp name beside `path`, fsync, rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.temp")
    try:
        with open(temp, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
