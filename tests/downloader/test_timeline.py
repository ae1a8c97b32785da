"""Start times from PROGRAM-DATE-TIME, EXTINF carry, remembered sequence numbers and the local clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from wubloader.downloader.timeline import assign_starts, find_skew
from wubloader.hls.parse_records import MediaSegment

T0 = datetime(2024, 5, 1, 10, 0, 0)
NOW = datetime(2024, 5, 1, 11, 0, 0)


def seg(sequence: int, duration: float = 2.0, pdt: datetime | None = None) -> MediaSegment:
    return MediaSegment(
        uri=f"s{sequence}.ts", duration=duration, title="", sequence=sequence, program_date_time=pdt
    )


CASES = [
    (
        "pdt on every segment",
        [seg(1, pdt=T0), seg(2, pdt=T0 + timedelta(seconds=2))],
        {},
        [T0, T0 + timedelta(seconds=2)],
        False,
    ),
    (
        "pdt wins over carried time",
        [seg(1, pdt=T0), seg(2, pdt=T0 + timedelta(seconds=3))],
        {},
        [T0, T0 + timedelta(seconds=3)],
        False,
    ),
    (
        "carried forward by EXTINF",
        [seg(1, 2.5, pdt=T0), seg(2), seg(3)],
        {},
        [T0, T0 + timedelta(seconds=2.5), T0 + timedelta(seconds=4.5)],
        False,
    ),
    (
        "back-filled before the first pdt",
        [seg(1, 1.5), seg(2, pdt=T0)],
        {},
        [T0 - timedelta(seconds=1.5), T0],
        False,
    ),
    (
        "remembered sequence anchors a playlist without pdt",
        [seg(7), seg(8)],
        {8: T0},
        [T0 - timedelta(seconds=2), T0],
        False,
    ),
    (
        "no anchor: the last segment ends now",
        [seg(1), seg(2)],
        {},
        [NOW - timedelta(seconds=4), NOW - timedelta(seconds=2)],
        True,
    ),
    ("empty playlist", [], {}, [], False),
]


@pytest.mark.parametrize(
    ("name", "segments", "known", "starts", "estimated"), CASES, ids=[c[0] for c in CASES]
)
def test_assign_starts(name, segments, known, starts, estimated):
    timed = assign_starts(tuple(segments), known, NOW).timed
    assert [t.start for t in timed] == starts
    assert all(t.estimated is estimated for t in timed)


def test_skew_found_at_the_first_jump():
    later = T0 + timedelta(seconds=4.4)
    segments = (seg(1, pdt=T0), seg(2), seg(3, pdt=later), seg(4, pdt=later + timedelta(seconds=2)))
    assert find_skew(segments) is segments[2]


@pytest.mark.parametrize("jump", [0.0, 0.009, -0.009])
def test_no_skew_within_10_ms(jump):
    segments = (seg(1, pdt=T0), seg(2, pdt=T0 + timedelta(seconds=2 + jump)))
    assert find_skew(segments) is None


def test_discontinuity_restarts_the_clock():
    after = MediaSegment(
        uri="s2.ts",
        duration=2.0,
        title="",
        sequence=2,
        discontinuity=True,
        program_date_time=T0 + timedelta(hours=1),
    )
    assert find_skew((seg(1, pdt=T0), after)) is None
