"""Fast cut: frame-exact edges re-encoded, whole segments copied byte for byte, source timestamps kept.

It shares the part pipeline of the smart cut (`cut_smart.stream_parts`) but never rewrites copied
segments: re-encoded pieces are put back on their source segment's clock, so a range without holes
plays continuously, while holes and range joins keep the source's timestamp jumps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wubloader.media.cut_smart import Placement, stream_parts

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Sequence

    from wubloader.media.cut_encode import PieceEncoder
    from wubloader.media.cut_plan import Part


def fast_cut(parts: Sequence[Part], encoder: PieceEncoder) -> AsyncGenerator[bytes | bytearray, None]:
    """The fast cut's bytes (see module docstring); errors as `stream_parts`."""
    return stream_parts(parts, encoder, Placement.FAST)
