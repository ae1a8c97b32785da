"""Lay cut parts (MPEG-TS blobs) on one output timeline by shifting each part's PTS/DTS/PCR by a constant.

Smart cuts place every part where the previous one's video ended, so joins and closed-up holes are
seamless and the output starts at 0; fast cuts put re-encoded parts back on their source clock and
pass copied segments through untouched. Timestamps are tracked unwrapped, so the 33-bit wrap (every
26.5 h) may fall anywhere in a part or in the output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.media.cut_fields import (
    AUDIO_PTS,
    MASK33,
    PCR_WIDTH,
    PTS_WIDTH,
    VIDEO_DTS,
    VIDEO_PTS,
    PesFields,
    clamp_negative,
    decode_pts,
    encode_pts,
    gather,
    kind_indices,
    lane_values,
    mask_positions,
    ones,
    pcr_offsets,
    pes_fields,
    pick,
    relative,
    scatter,
    shifted,
)
from wubloader.media.cut_ts import (
    CLOCK,
    HALF_WRAP,
    PACKET,
    FirstTimestamps,
    TsLayout,
    first_timestamps,
    packet_count,
    read_timestamp,
    signed_delta,
)
from wubloader.media.errors import UnsupportedMedia

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(slots=True)
class _PartClock:
    """A part's shift: output = base + rel, rel being a raw timestamp unwrapped against the last one seen."""

    base: int
    last_raw: int
    last_rel: int = 0

    def advance(self, last_raw: int, last_rel_lane: int) -> None:
        """Move the unwrap reference to the last field of a pass (its raw value and `relative` lane)."""
        self.last_raw = last_raw
        self.last_rel += last_rel_lane - HALF_WRAP


def _retime_pcrs(buf: bytearray, offsets: list[int], clock: _PartClock) -> None:
    """Shift the PCRs at `offsets`; an output below 0 is written as 0 (PCR may precede the first PTS)."""
    one = ones(len(offsets), PCR_WIDTH)
    lanes = gather(buf, offsets, PCR_WIDTH)
    # 33-bit base, 6 reserved bits, 9-bit extension: the base is the top 33 of the 48 bits.
    raw = (lanes >> 15) & (MASK33 * one)
    reference_out = clock.base + clock.last_rel
    rel = relative(raw, clock.last_raw, one)
    out = clamp_negative(shifted(rel, reference_out, one), rel, reference_out, one)
    scatter(buf, offsets, (out << 15) | (lanes & (0x7FFF * one)), PCR_WIDTH)
    clock.advance(raw & MASK33, rel & MASK33)


class Retimer:
    """Shifts the timestamps of successive parts; one instance per cut output, used part by part.

    `begin_part` must see the part's first blob (it holds the first video and audio PES headers) and
    chooses the part's shift; `retime` then rewrites each blob of the part. With `target=None` (smart)
    the part starts where the previous part's video ended — later if that is needed to keep DTS and
    audio PTS strictly increasing — and the first part is shifted so its earliest PTS/DTS is 0.
    With a `target` (fast) the part's first video PTS becomes exactly that raw 90 kHz value.
    """

    def __init__(self, layout: TsLayout, frame_ticks: int) -> None:
        self.layout = layout
        self.frame_ticks = frame_ticks
        self.next_video: int | None = None
        self.last_dts: int | None = None
        self.last_audio: int | None = None
        self._clock: _PartClock | None = None
        self._drop_overlap = False
        self._max_video = 0
        self._audio_step = 0
        self._after_jump = False
        self._marked = False

    def begin_part(
        self,
        first_blob: bytes | bytearray,
        *,
        target: int | None = None,
        drop_overlapping_audio: bool = False,
        after_jump: bool = False,
    ) -> FirstTimestamps:
        """Choose the shift for a new part from its first blob; returns the part's first timestamps."""
        first = first_timestamps(first_blob, self.layout)
        rel_dts = signed_delta(first.video_dts, first.video_pts)
        rel_audio = None if first.audio_pts is None else signed_delta(first.audio_pts, first.video_pts)
        if target is not None:
            base = target
        elif self.next_video is None:
            base = -min(rel_dts, rel_audio if rel_audio is not None else 0, 0)
        else:
            base = self.next_video
            if self.last_dts is not None:
                base = max(base, self.last_dts + 1 - rel_dts)
            if self.last_audio is not None and rel_audio is not None and not drop_overlapping_audio:
                base = max(base, self.last_audio + 1 - rel_audio)
        self._clock = _PartClock(base=base, last_raw=first.video_pts)
        self._drop_overlap = drop_overlapping_audio or after_jump
        self._after_jump = after_jump
        self._max_video = base
        return first

    def jumps(self, blob: bytes | bytearray) -> bool:
        """True if the blob's first video PTS is not within 1 s of where the current part's video ends.

        A copied run may hold a timestamp discontinuity (encoder restart, spliced stream) with no
        hole in the store; the caller then starts a new part there (`retime(split_at_jump=True)`
        does both) so the output stays continuous.
        """
        return self._jumps_to(first_timestamps(blob, self.layout).video_pts)

    def _jumps_to(self, video_pts: int) -> bool:
        clock = self._clock
        assert clock is not None, "begin_part first"
        rel = clock.last_rel + signed_delta(video_pts, clock.last_raw)
        return abs(clock.base + rel - (self._max_video + self.frame_ticks)) > CLOCK

    def end_part(self) -> None:
        """Record where the part's video ended, for the next part's placement."""
        self.next_video = self._max_video + self.frame_ticks
        self._clock = None

    def retime(self, blob: bytes | bytearray, *, split_at_jump: bool = False) -> bytearray:
        """The blob with every PTS/DTS/PCR shifted to the output timeline (partial last packet kept).

        A bytearray is rewritten in place (and returned); bytes are copied first. With
        `split_at_jump`, a blob that `jumps` ends the part and begins a new one (after_jump) first.
        """
        assert self._clock is not None, "begin_part first"
        buf = blob if isinstance(blob, bytearray) else bytearray(blob)
        count = packet_count(buf)
        fields = pes_fields(buf, count, self.layout.video_pid, self.layout.audio_pid)
        if split_at_jump:
            first_video = fields.kinds.find(VIDEO_PTS)
            if first_video < 0:
                raise UnsupportedMedia("no video timestamps in segment")
            if self._jumps_to(read_timestamp(buf, fields.offsets[first_video])):
                self.end_part()
                self.begin_part(buf, after_jump=True)
        clock = self._clock
        assert clock is not None
        pcrs = pcr_offsets(buf, count)
        if pcrs:
            _retime_pcrs(buf, pcrs, clock)
        if fields.offsets:
            self._retime_pes_headers(buf, fields, clock)
        if self._drop_overlap:
            # Only the start of a part can overlap the previous part's audio.
            self._drop_overlap = False
            if self._marked:
                self._marked = False
                return self._drop_marked(buf, count)
        return buf

    def _retime_pes_headers(self, buf: bytearray, fields: PesFields, clock: _PartClock) -> None:
        """Shift every PTS/DTS field, then track video end, last DTS and audio from the new values."""
        offsets, kinds = fields.offsets, fields.kinds
        one = ones(len(offsets), PTS_WIDTH)
        lanes = gather(buf, offsets, PTS_WIDTH)
        raw = decode_pts(lanes, one)
        reference_out = clock.base + clock.last_rel
        rel = relative(raw, clock.last_raw, one)
        scatter(buf, offsets, encode_pts(lanes, shifted(rel, reference_out, one), one), PTS_WIDTH)
        clock.advance(raw & MASK33, rel & MASK33)
        values = lane_values(rel, len(offsets), PTS_WIDTH)
        delta = reference_out - HALF_WRAP
        top = max(pick(values, kinds, VIDEO_PTS), default=None)
        if top is not None:
            self._max_video = max(self._max_video, top + delta)
            last_video = max(kinds.rfind(VIDEO_PTS), kinds.rfind(VIDEO_DTS))
            self.last_dts = values[last_video] + delta
        if self.layout.audio_pid is not None:
            for index in kind_indices(kinds, AUDIO_PTS):
                self._audio_pes(buf, fields.packet_of(index), values[index] + delta)

    def _audio_pes(self, buf: bytearray, pos: int, pts: int) -> None:
        # Drop a PES that would not start after the previous one (after a jump: after its estimated end).
        margin = self._audio_step if self._after_jump else 1
        if self._drop_overlap and self.last_audio is not None and pts < self.last_audio + margin:
            buf[pos + 1] |= 0x80  # transport_error_indicator marks the PES for _drop_marked
            self._marked = True
            return
        if self.last_audio is not None and 0 < pts - self.last_audio < CLOCK:
            self._audio_step = pts - self.last_audio
        self.last_audio = pts

    def _drop_marked(self, buf: bytearray, count: int) -> bytearray:
        """Remove audio PES marked by _audio_pes (every packet until that PID's next PES start)."""
        audio = self.layout.audio_pid
        assert audio is not None, "only audio PES are marked"
        end = count * PACKET
        # Only the audio PID's packets are visited (found with strided slices); the rest is kept as is.
        high, low = audio >> 8, audio & 0xFF
        is_audio = int.from_bytes(
            buf[1:end:PACKET].translate(_byte_mask(lambda b: b & 0x1F == high)), "big"
        ) & int.from_bytes(buf[2:end:PACKET].translate(_byte_mask(lambda b: b == low)), "big")
        out = bytearray()
        kept = 0
        dropping = False
        for index in mask_positions(is_audio.to_bytes(count, "big")):
            pos = index * PACKET
            if buf[pos + 1] & 0x40:
                dropping = bool(buf[pos + 1] & 0x80)
            if dropping:
                out += buf[kept:pos]
                kept = pos + PACKET
        out += buf[kept:]
        return out


def _byte_mask(test: Callable[[int], bool]) -> bytes:
    """A translate() table mapping each byte value to 1 if `test` holds for it, else 0."""
    return bytes(1 if test(b) else 0 for b in range(256))
