"""MPEG-TS timestamp surgery for cuts: read a stream's layout and first timestamps, shift PTS/DTS/PCR.

Only packets that carry a PES header or a PCR are touched, and they are found with C-speed slicing
(`data[1::188]`), so copying hours of segments costs little more than reading them. Nothing here
starts a process or does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.media.errors import UnsupportedMedia

if TYPE_CHECKING:
    from collections.abc import Iterator

PACKET = 188
SYNC = 0x47
CLOCK = 90_000
WRAP = 1 << 33
HALF_WRAP = 1 << 32
VIDEO_TYPES = frozenset({0x01, 0x02, 0x10, 0x1B, 0x24})
AUDIO_TYPES = frozenset({0x03, 0x04, 0x0F, 0x11, 0x81, 0x87})
# Stream ids whose PES packets have no optional header (program stream map, padding, private 2, ...).
_NO_HEADER_IDS = frozenset({0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF})
_PUSI_MASK = bytes(1 if b & 0x40 else 0 for b in range(256))
_AF_MASK = bytes(1 if b & 0x20 else 0 for b in range(256))


@dataclass(frozen=True, slots=True, kw_only=True)
class TsLayout:
    """Which PIDs carry what, read from the first PAT/PMT of a stream."""

    program_number: int
    pmt_pid: int
    video_pid: int
    audio_pid: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstTimestamps:
    """The first PES timestamps (raw 90 kHz, 33-bit) of a blob: video PTS/DTS, audio PTS, earliest of all."""

    video_pts: int
    video_dts: int
    audio_pts: int | None
    earliest_pts: int


def signed_delta(a: int, b: int) -> int:
    """a - b on the 33-bit clock, as the nearest signed value (handles the wrap)."""
    return (a - b + HALF_WRAP) % WRAP - HALF_WRAP


def read_timestamp(buf: bytes | bytearray, pos: int) -> int:
    """The 33-bit PTS/DTS at `pos` (5 bytes: 4-bit prefix, 3+15+15 bits separated by marker bits)."""
    value = int.from_bytes(buf[pos : pos + 5], "big")
    return ((value >> 3) & 0x1C0000000) | ((value >> 2) & 0x3FFF8000) | ((value >> 1) & 0x7FFF)


def write_timestamp(buf: bytearray, pos: int, value: int) -> None:
    """Write `value` (mod 2**33) as a PTS/DTS at `pos`, keeping the 4-bit prefix, markers set."""
    value %= WRAP
    encoded = (
        (buf[pos] & 0xF0) << 32
        | (value & 0x1C0000000) << 3
        | (value & 0x3FFF8000) << 2
        | (value & 0x7FFF) << 1
        | 0x100010001
    )
    buf[pos : pos + 5] = encoded.to_bytes(5, "big")


def _positions(mask: bytes | bytearray) -> Iterator[int]:
    i = mask.find(1)
    while i >= 0:
        yield i
        i = mask.find(1, i + 1)


def packet_count(data: bytes | bytearray) -> int:
    """Number of whole packets; raises UnsupportedMedia unless every packet starts with the sync byte."""
    count = len(data) // PACKET
    if count == 0 or data[0 : count * PACKET : PACKET] != bytes([SYNC]) * count:
        raise UnsupportedMedia("not an aligned MPEG-TS stream (smart/fast cuts need MPEG-TS segments)")
    return count


def payload_start(buf: bytes | bytearray, pos: int) -> int:
    """Offset of the payload of the packet at `pos` (after any adaptation field)."""
    if buf[pos + 3] & 0x20:
        return pos + 5 + buf[pos + 4]
    return pos + 4


def pid_of(buf: bytes | bytearray, pos: int) -> int:
    return ((buf[pos + 1] & 0x1F) << 8) | buf[pos + 2]


def _section(buf: bytes | bytearray, pos: int) -> bytes:
    start = payload_start(buf, pos)
    start += 1 + buf[start]  # pointer field
    length = ((buf[start + 1] & 0x0F) << 8) | buf[start + 2]
    return bytes(buf[start : min(start + 3 + length, pos + PACKET)])


def read_layout(data: bytes | bytearray) -> TsLayout:
    """Parse the first PAT and its PMT; raises UnsupportedMedia if there is no video stream."""
    count = packet_count(data)
    pmt_pid = program = None
    for i in range(count):
        pos = i * PACKET
        if not data[pos + 1] & 0x40:
            continue
        pid = pid_of(data, pos)
        if pid == 0 and pmt_pid is None:
            pat = _section(data, pos)
            for entry in range(8, len(pat) - 4, 4):
                number = (pat[entry] << 8) | pat[entry + 1]
                if number:
                    program, pmt_pid = number, ((pat[entry + 2] & 0x1F) << 8) | pat[entry + 3]
                    break
        elif pid == pmt_pid and program is not None:
            return _parse_pmt(_section(data, pos), program, pmt_pid)
    raise UnsupportedMedia("no PAT/PMT found in the first segment")


def _parse_pmt(pmt: bytes, program: int, pmt_pid: int) -> TsLayout:
    video = audio = None
    pos = 12 + (((pmt[10] & 0x0F) << 8) | pmt[11])
    while pos + 5 <= len(pmt) - 4:
        stream_type = pmt[pos]
        pid = ((pmt[pos + 1] & 0x1F) << 8) | pmt[pos + 2]
        if stream_type in VIDEO_TYPES and video is None:
            video = pid
        elif stream_type in AUDIO_TYPES and audio is None:
            audio = pid
        pos += 5 + (((pmt[pos + 3] & 0x0F) << 8) | pmt[pos + 4])
    if video is None:
        raise UnsupportedMedia("the stream has no video")
    return TsLayout(program_number=program, pmt_pid=pmt_pid, video_pid=video, audio_pid=audio)


def pes_timestamp_offsets(buf: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """(PTS offset, DTS offset or 0) in `buf` for a PUSI packet at `pos`, or None if it has no PTS."""
    start = payload_start(buf, pos)
    if start + 14 > pos + PACKET or buf[start : start + 3] != b"\x00\x00\x01":
        return None
    if buf[start + 3] in _NO_HEADER_IDS:
        return None
    flags = buf[start + 7] >> 6
    if not flags & 0x2:
        return None
    if flags == 0x3 and start + 19 <= pos + PACKET:
        return start + 9, start + 14
    return start + 9, 0


def first_timestamps(data: bytes | bytearray, layout: TsLayout) -> FirstTimestamps:
    """The first video PTS/DTS and audio PTS in `data`; UnsupportedMedia if there is no video PES."""
    count = packet_count(data)
    video: tuple[int, int] | None = None
    audio: int | None = None
    earliest: int | None = None
    mask = bytes(data[1 : count * PACKET : PACKET]).translate(_PUSI_MASK)
    for i in _positions(mask):
        pos = i * PACKET
        offsets = pes_timestamp_offsets(data, pos)
        if offsets is None:
            continue
        pts = read_timestamp(data, offsets[0])
        if earliest is None or signed_delta(pts, earliest) < 0:
            earliest = pts
        pid = pid_of(data, pos)
        if pid == layout.video_pid and video is None:
            video = (pts, read_timestamp(data, offsets[1]) if offsets[1] else pts)
        elif pid == layout.audio_pid and audio is None:
            audio = pts
        if video is not None and (audio is not None or layout.audio_pid is None):
            break
    if video is None or earliest is None:
        raise UnsupportedMedia("no video timestamps in segment")
    return FirstTimestamps(video_pts=video[0], video_dts=video[1], audio_pts=audio, earliest_pts=earliest)
