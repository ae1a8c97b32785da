"""The bulk retimer rewrites real segments byte for byte like the original per-field one (kept as an oracle)."""

from __future__ import annotations

import random

import pytest

from tests.harness import retime_reference
from tests.harness.cut_check import encode_wrapping_clip
from wubloader.media import cut_fields
from wubloader.media.cut_retime import Retimer
from wubloader.media.cut_ts import (
    HALF_WRAP,
    WRAP,
    packet_count,
    read_layout,
    read_timestamp,
    signed_delta,
    write_timestamp,
)

pytestmark = pytest.mark.ffmpeg


def _state(retimer) -> tuple:
    return (retimer.next_video, retimer.last_dts, retimer.last_audio, retimer._audio_step)


def _copy_run(cls, segments: list[bytes], layout, *, split: bool) -> tuple[list[bytes], tuple]:
    """Drive a retimer over one copied run the way cut_smart does (the old API: jumps() + begin_part)."""
    retimer = cls(layout, 3600)
    out = []
    for i, data in enumerate(segments):
        buf = bytearray(data)
        if i == 0:
            retimer.begin_part(buf)
            out.append(bytes(retimer.retime(buf)))
        elif split:
            out.append(bytes(retimer.retime(buf, split_at_jump=True)))
        else:
            if retimer.jumps(buf):
                retimer.end_part()
                retimer.begin_part(buf, after_jump=True)
            out.append(bytes(retimer.retime(buf)))
    retimer.end_part()
    return out, _state(retimer)


@pytest.fixture(scope="module")
def wrapping_segments(tmp_path_factory):
    return encode_wrapping_clip(tmp_path_factory.mktemp("wrap-retime"), seconds=8)


@pytest.mark.parametrize("source", ["plain", "bframes", "wrapping"])
def test_copied_runs_match_the_reference(clip, clip_bframes, wrapping_segments, source):
    segments = {"plain": clip, "bframes": clip_bframes, "wrapping": wrapping_segments}[source].segments
    # Stored twice back to back: the timestamps jump back at the repeat with no hole (a new part).
    run = segments + segments
    layout = read_layout(run[0])
    expected, expected_state = _copy_run(retime_reference.Retimer, run, layout, split=False)
    got, state = _copy_run(Retimer, run, layout, split=False)
    split, split_state = _copy_run(Retimer, run, layout, split=True)
    assert got == expected
    assert split == expected
    assert state == split_state == expected_state
    assert any(a != b for a, b in zip(expected, run, strict=True))  # something was really rewritten


def _parts(cls, segments: list[bytes], layout) -> tuple[list[bytes], tuple]:
    """Pieces as the smart and fast cuts place them: after a run, overlapping audio dropped; at a target."""
    retimer = cls(layout, 3600)
    out = []
    retimer.begin_part(segments[0])
    out.append(bytes(retimer.retime(segments[0])))  # bytes in: copied, not rewritten in place
    retimer.end_part()
    retimer.begin_part(segments[2], drop_overlapping_audio=True)
    out.append(bytes(retimer.retime(segments[2])))
    out.append(bytes(retimer.retime(segments[3])))
    retimer.end_part()
    for target in (WRAP - 2000, 5, 123_456_789):
        retimer.begin_part(segments[1], target=target)
        out.append(bytes(retimer.retime(segments[1])))
        retimer.end_part()
    return out, _state(retimer)


@pytest.mark.parametrize("source", ["plain", "bframes", "wrapping"])
def test_placed_pieces_match_the_reference(clip, clip_bframes, wrapping_segments, source):
    segments = {"plain": clip, "bframes": clip_bframes, "wrapping": wrapping_segments}[source].segments
    layout = read_layout(segments[0])
    assert _parts(Retimer, segments, layout) == _parts(retime_reference.Retimer, segments, layout)


def test_first_part_clamps_early_pcrs_to_zero(clip):
    # ffmpeg's muxer sends PCR ahead of the first PTS; placed at 0, those PCRs would be negative.
    layout = read_layout(clip.segments[0])
    retimer = Retimer(layout, 3600)
    buf = bytearray(clip.segments[0])
    retimer.begin_part(buf)
    retimer.retime(buf)
    pcrs = [
        int.from_bytes(buf[pos + 6 : pos + 12], "big") >> 15
        for pos in range(0, len(buf), 188)
        if buf[pos + 3] & 0x20 and buf[pos + 4] and buf[pos + 5] & 0x10
    ]
    assert pcrs[0] == 0
    assert pcrs == sorted(pcrs)
    assert packet_count(buf) == len(clip.segments[0]) // 188


@pytest.mark.parametrize("seed", range(3))
def test_lane_arithmetic_matches_scalar_timestamps(seed):
    rng = random.Random(seed)
    values = [rng.randrange(WRAP) for _ in range(50)] + [0, WRAP - 1, HALF_WRAP]
    buf = bytearray()
    for value in values:
        field = bytearray(b"\x31\x00\x01\x00\x01")
        write_timestamp(field, 0, value)
        buf += field + b"\xaa"  # fields need not be adjacent
    offsets = list(range(0, len(buf), 6))
    one = cut_fields.ones(len(values), 5)
    lanes = cut_fields.gather(buf, offsets, 5)
    raw = cut_fields.decode_pts(lanes, one)
    assert cut_fields.lane_values(raw, len(values), 5) == values
    reference = rng.randrange(WRAP)
    reference_out = rng.randrange(-(10**9), 10**10)
    rel = cut_fields.relative(raw, reference, one)
    unwrapped = [reference_out + signed_delta(value, reference) for value in values]
    assert [v - HALF_WRAP + reference_out for v in cut_fields.lane_values(rel, len(values), 5)] == unwrapped
    out = cut_fields.shifted(rel, reference_out, one)
    assert cut_fields.lane_values(out, len(values), 5) == [u % WRAP for u in unwrapped]
    clamped = cut_fields.clamp_negative(out, rel, reference_out, one)
    assert cut_fields.lane_values(clamped, len(values), 5) == [max(0, u) % WRAP for u in unwrapped]
    cut_fields.scatter(buf, offsets, cut_fields.encode_pts(lanes, out, one), 5)
    assert [read_timestamp(buf, o) for o in offsets] == [u % WRAP for u in unwrapped]
    assert all(buf[o] >> 4 == 0x3 and buf[o + 5] == 0xAA for o in offsets)  # prefix kept, gaps untouched


def test_clamp_negative_extremes():
    one = cut_fields.ones(2, 6)
    rel = ((HALF_WRAP + 5) << 48) | HALF_WRAP  # lanes: delta +5 (first field), 0 (second)
    out = cut_fields.shifted(rel, 100, one)
    assert cut_fields.clamp_negative(out, rel, HALF_WRAP, one) == out  # nothing can be negative
    assert cut_fields.clamp_negative(out, rel, HALF_WRAP - WRAP, one) == 0  # everything is
    out = cut_fields.shifted(rel, -3, one)
    assert cut_fields.lane_values(cut_fields.clamp_negative(out, rel, -3, one), 2, 6) == [2, 0]


def test_mask_positions():
    assert cut_fields.mask_positions(b"") == []
    assert cut_fields.mask_positions(b"\x00\x00") == []
    assert cut_fields.mask_positions(b"\x01\x00\x01\x01\x00\x00\x01") == [0, 2, 3, 6]
