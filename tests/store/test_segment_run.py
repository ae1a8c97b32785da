"""A whole hour kept as columns: every segment it yields is the one the exact parser gives."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.store.test_naming import ODD_ONES, UNIFORM_HOUR
from wubloader.store import SegmentType
from wubloader.store.errors import BadSegmentName
from wubloader.store.naming import hour_columns, parse_segment_name
from wubloader.store.segment_run import SegmentRun

HOUR = datetime(2024, 1, 1, 5)
FOLDER = "/s/c/q/2024-01-01T05/"
# All full, six-digit times, but more than one duration: the bulk parser's grouped path.
MIXED_HOUR = [
    f"{i // 30:02d}:{i % 30 * 2:02d}.{i % 7:06d}-{2 + i % 3 / 1000}-full-h{i}.ts" for i in range(600)
]


def parse_run(hour, names):
    """The run of an hour's names, as selection makes it (None: not a run, or not parsed in bulk)."""
    columns = hour_columns(hour, names)
    return None if columns is None else SegmentRun.of(hour, names, columns, "c", "q", FOLDER)


def exact(names: list[str]) -> list:
    return [parse_segment_name(HOUR, name, "c", "q", FOLDER + name) for name in names]


@pytest.mark.parametrize(
    "names", [UNIFORM_HOUR, MIXED_HOUR, UNIFORM_HOUR[:1]], ids=["uniform", "mixed", "one"]
)
def test_a_run_is_the_exact_parse_of_its_names(names):
    run = parse_run(HOUR, sorted(names))
    assert run is not None
    expected = exact(sorted(names))
    assert run.segments() == list(run) == expected
    assert len(run) == len(expected)
    for i in {0, len(run) // 2, len(run) - 1, -1}:
        assert run[i] == expected[i]
    assert (run[0].start, run.end) == (expected[0].start, expected[-1].end)
    assert run.longest == max(s.duration for s in expected)
    assert not run.is_partial
    assert all(s.path == FOLDER + s.name for s in run)


def test_slices_and_picks_are_runs_of_those_segments():
    run = parse_run(HOUR, MIXED_HOUR)
    expected = exact(MIXED_HOUR)
    for a, b in [(0, 600), (5, 17), (599, 600), (10, 10), (-3, None)]:
        part = run[a:b]
        assert isinstance(part, SegmentRun) and part.segments() == expected[a:b]
    picked = run.pick([0, 2, 599])
    assert isinstance(picked, SegmentRun) and list(picked) == [expected[0], expected[2], expected[599]]
    with pytest.raises(ValueError):
        run[::2]


def test_membership_holds_no_hole_and_each_of_its_segments():
    run = parse_run(HOUR, UNIFORM_HOUR[:50])
    assert None not in run
    assert exact(UNIFORM_HOUR[:50])[7] in run
    assert exact(UNIFORM_HOUR[50:51])[0] not in run
    assert "00:00.000000-2.000-full-h0.ts" not in run  # a name is not a segment


@pytest.mark.parametrize("odd", [*ODD_ONES, "01:00.500000-2.000-partial-other.ts"])
def test_an_hour_is_a_run_only_when_every_name_is_full_with_a_six_digit_time(odd):
    names = sorted([*UNIFORM_HOUR, odd])
    try:
        parsed = exact(names)
    except BadSegmentName:
        parsed = None
    run = parse_run(HOUR, names)
    if parsed is not None and all(s.type is SegmentType.FULL and s.name[12] == "-" for s in parsed):
        assert run is not None and run.segments() == parsed  # another duration, or a 43-character hash
    else:
        assert run is None


def test_the_last_hour_of_time_is_never_a_run():
    last = datetime(9999, 12, 31, 23)
    assert parse_run(last, UNIFORM_HOUR[:10]) is None
    assert parse_run(HOUR, []) is None


def test_offsets_and_times_agree_with_the_names():
    run = parse_run(HOUR, MIXED_HOUR)
    for name, time_text, offset in zip(run.names, run.times, run.offsets, strict=True):
        assert name.startswith(time_text) and len(time_text) == 12
        assert HOUR + offset == parse_segment_name(HOUR, name).start
    assert all(isinstance(d, timedelta) for d in run.durations)
