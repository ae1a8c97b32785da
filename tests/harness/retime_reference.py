"""The straightforward per-field retimer the cut engine shipped with, kept as an oracle for the bulk one."""

# Verbatim copy of src/wubloader/media/cut_retime.py before the bulk rewrite (only this docstring differs).
from __future__ import annotations

from dataclasses import dataclass
from itertools import compress

from wubloader.media.cut_ts import (
    CLOCK,
    HALF_WRAP,
    PACKET,
    WRAP,
    FirstTimestamps,
    TsLayout,
    first_timestamps,
    packet_count,
    pes_timestamp_offsets,
    pid_of,
    read_timestamp,
    signed_delta,
    write_timestamp,
)

_PUSI_MASK = bytes(1 if b & 0x40 else 0 for b in range(256))
_AF_MASK = bytes(1 if b & 0x20 else 0 for b in range(256))


@dataclass(slots=True)
class _PartClock:
    """Unwraps one part's timestamps relative to its first video PTS and maps them to output ticks."""

    base: int
    last_raw: int
    last_rel: int = 0

    def output(self, raw: int) -> int:
        self.last_rel += signed_delta(raw, self.last_raw)
        self.last_raw = raw
        return self.base + self.last_rel


def _retime_pcrs(buf: bytearray, end: int, clock: _PartClock) -> None:
    """Shift every PCR in buf[:end] (the hot loop of copying: written for speed, state in locals)."""
    base, last_raw, last_rel = clock.base, clock.last_raw, clock.last_rel
    from_bytes = int.from_bytes
    for i in compress(range(end // PACKET), buf[3:end:PACKET].translate(_AF_MASK)):
        pos = i * PACKET
        if not (buf[pos + 4] and buf[pos + 5] & 0x10):
            continue
        pos += 6
        # 33-bit base, 6 reserved bits, 9-bit extension: the base is the top 33 of these 48 bits.
        value = from_bytes(buf[pos : pos + 6], "big")
        raw = value >> 15
        last_rel += (raw - last_raw + HALF_WRAP) % WRAP - HALF_WRAP
        last_raw = raw
        new = base + last_rel
        buf[pos : pos + 6] = ((max(0, new) % WRAP) << 15 | (value & 0x7FFF)).to_bytes(6, "big")
    clock.last_raw, clock.last_rel = last_raw, last_rel


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
        hole in the store; the caller then starts a new part there so the output stays continuous.
        """
        clock = self._clock
        assert clock is not None, "begin_part first"
        first = first_timestamps(blob, self.layout)
        rel = clock.last_rel + signed_delta(first.video_pts, clock.last_raw)
        return abs(clock.base + rel - (self._max_video + self.frame_ticks)) > CLOCK

    def end_part(self) -> None:
        """Record where the part's video ended, for the next part's placement."""
        self.next_video = self._max_video + self.frame_ticks
        self._clock = None

    def retime(self, blob: bytes | bytearray) -> bytearray:
        """The blob with every PTS/DTS/PCR shifted to the output timeline (partial last packet kept).

        A bytearray is rewritten in place (and returned); bytes are copied first.
        """
        clock = self._clock
        assert clock is not None, "begin_part first"
        buf = blob if isinstance(blob, bytearray) else bytearray(blob)
        count = packet_count(buf)
        end = count * PACKET
        _retime_pcrs(buf, end, clock)
        self._retime_pes_headers(buf, end, clock)
        if self._drop_overlap:
            # Only the start of a part can overlap the previous part's audio.
            self._drop_overlap = False
            if self._marked:
                self._marked = False
                return self._drop_marked(buf, count)
        return buf

    def _retime_pes_headers(self, buf: bytearray, end: int, clock: _PartClock) -> None:
        """Shift the PTS/DTS of every PES header in buf[:end] (hot loop: state kept in locals)."""
        video_pid, audio_pid = self.layout.video_pid, self.layout.audio_pid
        max_video, last_dts = self._max_video, self.last_dts
        for i in compress(range(end // PACKET), buf[1:end:PACKET].translate(_PUSI_MASK)):
            pos = i * PACKET
            offsets = pes_timestamp_offsets(buf, pos)
            if offsets is None:
                continue
            pid = ((buf[pos + 1] & 0x1F) << 8) | buf[pos + 2]
            pts = clock.output(read_timestamp(buf, offsets[0]))
            write_timestamp(buf, offsets[0], pts)
            if pid == video_pid:
                if pts > max_video:
                    max_video = pts
                last_dts = pts
                if offsets[1]:
                    last_dts = clock.output(read_timestamp(buf, offsets[1]))
                    write_timestamp(buf, offsets[1], last_dts)
            elif pid == audio_pid:
                self._audio_pes(buf, pos, pts)
        self._max_video, self.last_dts = max_video, last_dts

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
        """Remove audio PES marked by _retime_pes (every packet until that PID's next PES start)."""
        audio = self.layout.audio_pid
        out = bytearray()
        dropping = False
        for i in range(count):
            pos = i * PACKET
            if pid_of(buf, pos) == audio:
                if buf[pos + 1] & 0x40:
                    dropping = bool(buf[pos + 1] & 0x80)
                if dropping:
                    continue
            out += buf[pos : pos + PACKET]
        out += buf[count * PACKET :]
        return out
