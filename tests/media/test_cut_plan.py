"""Pure cut planning: validation errors, which segments are copied or re-encoded, the 33-bit clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from wubloader.media.cut_plan import (
    CopyRun,
    CutRange,
    Edge,
    Transition,
    Window,
    check_chains,
    plan_parts,
    validate_cut,
)
from wubloader.media.cut_ts import WRAP, read_timestamp, signed_delta, write_timestamp
from wubloader.media.errors import BadRange, BadTransition, TransitionOverHole
from wubloader.store import ContainsHoles, NoSegments, Segment, SegmentType

T0 = datetime(2024, 5, 1, 10)
FRAME = 0.04


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def r(a: float, b: float) -> CutRange:
    return CutRange(start=at(a), end=at(b))


def seg(start: float, duration: float = 2.0) -> Segment:
    return Segment(
        folder="/x/", name=f"{start}.ts", channel="c", quality="q", start=at(start),
        duration=timedelta(seconds=duration), type=SegmentType.FULL,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("ranges", "transitions", "error", "text"),
    [
        ([], [], BadRange, "at least one"),
        ([r(5, 5)], [], BadRange, "ends must be after starts"),
        ([r(5, 4)], [], BadRange, "ends must be after starts"),
        ([r(0, 4), r(5, 9)], [], BadTransition, "need 1 transitions"),
        ([r(0, 4)], [None], BadTransition, "need 0 transitions"),
        ([r(0, 4), r(5, 9)], [Transition(name="nosuch", duration=1)], BadTransition, "unknown"),
        ([r(0, 4), r(5, 9)], [Transition(name="fade", duration=0)], BadTransition, "positive"),
        ([r(0, 4), r(5, 9)], [Transition(name="fade", duration=float("nan"))], BadTransition, "positive"),
        ([r(0, 4), r(5, 6)], [Transition(name="fade", duration=1)], BadTransition, "too short"),
        (
            [r(0, 4), r(5, 7), r(8, 12)],
            [Transition(name="fade", duration=1), Transition(name="clockwipe", duration=1)],
            BadTransition,
            "too short",
        ),
    ],
)
def test_validation(ranges, transitions, error, text):
    with pytest.raises(error, match=f"(?i){text}"):
        validate_cut(ranges, transitions)


def test_valid_request_passes():
    validate_cut([r(0, 4), r(5, 8), r(8, 12)], [Transition(name="fade", duration=1), None])


def test_chain_checks():
    with pytest.raises(NoSegments):
        check_chains([[seg(0)], [None]], allow_holes=True)
    with pytest.raises(ContainsHoles):
        check_chains([[seg(0), None, seg(4)]], allow_holes=False)
    check_chains([[seg(0), None, seg(4)]], allow_holes=True)


def test_plan_copies_middle_and_reencodes_edges():
    chain = [seg(0), seg(2), seg(4), seg(6)]
    parts = plan_parts([r(1.3, 7.7)], [], [chain], FRAME)
    assert parts == [
        Edge(segment=chain[0], start_frame=33, end_frame=None),
        CopyRun(segments=(chain[1], chain[2])),
        Edge(segment=chain[3], start_frame=0, end_frame=43),
    ]


def test_plan_on_segment_boundaries_copies_everything():
    chain = [seg(0), seg(2), seg(4)]
    assert plan_parts([r(0, 6)], [], [chain], FRAME) == [CopyRun(segments=tuple(chain))]


def test_plan_inside_one_segment_and_across_a_hole():
    one = seg(2)
    assert plan_parts([r(2.5, 3.0)], [], [[one]], FRAME) == [Edge(segment=one, start_frame=13, end_frame=25)]
    chain = [seg(0), None, seg(4), seg(6)]
    parts = plan_parts([r(1, 7)], [], [chain], FRAME)
    assert parts == [
        Edge(segment=chain[0], start_frame=25, end_frame=None),
        CopyRun(segments=(chain[2],)),
        Edge(segment=chain[3], start_frame=0, end_frame=25),
    ]


def test_plan_transition_window_uses_whole_frames():
    a, b = [seg(0), seg(2)], [seg(10), seg(12)]
    parts = plan_parts([r(0, 4), r(10, 14)], [Transition(name="fade", duration=0.5)], [a, b], FRAME)
    window = next(p for p in parts if isinstance(p, Window))
    assert window.frames == 12  # 0.5 s at 25 fps, rounded half to even
    assert window.outgoing == (a[1],) and window.out_frame == 50 - 12
    assert window.incoming == (b[0],) and window.in_frame == 0
    assert parts[0] == CopyRun(segments=(a[0],))
    assert parts[1] == Edge(segment=a[1], start_frame=0, end_frame=38)


def test_transition_over_hole_is_refused():
    with pytest.raises(TransitionOverHole):
        plan_parts(
            [r(0, 4), r(10, 14)],
            [Transition(name="fade", duration=1)],
            [[seg(0), None], [seg(10), seg(12)]],
            FRAME,
        )


@pytest.mark.parametrize("value", [0, 1, 90_000, WRAP - 1, WRAP // 2 + 12345])
def test_timestamp_round_trip(value):
    buf = bytearray(b"\x21\x00\x01\x00\x01")
    write_timestamp(buf, 0, value)
    assert read_timestamp(buf, 0) == value
    assert buf[0] >> 4 == 0x2  # the PTS/DTS prefix nibble is kept


def test_signed_delta_across_the_wrap():
    assert signed_delta(100, WRAP - 100) == 200
    assert signed_delta(WRAP - 100, 100) == -200
    assert signed_delta(5, 3) == 2
