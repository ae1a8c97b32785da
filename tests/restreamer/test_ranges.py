"""resolve_window: implicit bounds, the 12 h implicit and the explicit limit, reversed ranges (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from wubloader.restreamer.errors import BadRequest, NotFound
from wubloader.restreamer.ranges import HourSpan, resolve_window

SPAN = HourSpan(first=datetime(2024, 5, 1, 10), last=datetime(2024, 5, 1, 12))
LIMIT = timedelta(hours=12)
LONGEST = timedelta(days=2)


def test_implicit_bounds():
    window = resolve_window(SPAN, None, None, max_implicit=LIMIT, max_range=LONGEST)
    assert (window.start, window.end, window.live) == (
        datetime(2024, 5, 1, 10),
        datetime(2024, 5, 1, 14),
        True,
    )
    window = resolve_window(SPAN, None, datetime(2024, 5, 1, 11), max_implicit=LIMIT, max_range=LONGEST)
    assert (window.start, window.live) == (datetime(2024, 5, 1, 10), False)


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        (datetime(2024, 5, 1, 11), datetime(2024, 5, 1, 11), BadRequest),
        (datetime(2024, 5, 1, 11), datetime(2024, 5, 1, 10), BadRequest),
        (datetime(2024, 4, 30, 10), None, BadRequest),  # implicit end → 29 h
        (None, datetime(2024, 5, 2, 10), BadRequest),  # implicit start → 24 h
        (datetime(2024, 5, 1, 16), None, BadRequest),  # start after the implicit end
    ],
)
def test_rejected(start, end, error):
    with pytest.raises(error):
        resolve_window(SPAN, start, end, max_implicit=LIMIT, max_range=LONGEST)


def test_explicit_ranges_may_be_long_and_need_no_hours():
    window = resolve_window(
        None, datetime(2024, 5, 1), datetime(2024, 5, 3), max_implicit=LIMIT, max_range=LONGEST
    )
    assert window.end - window.start == timedelta(days=2)
    with pytest.raises(NotFound):
        resolve_window(None, datetime(2024, 5, 1), None, max_implicit=LIMIT, max_range=LONGEST)


def test_explicit_range_over_the_limit_is_refused_naming_the_setting():
    with pytest.raises(BadRequest, match="longer than 48 hours \\(--max-range\\)"):
        resolve_window(
            SPAN, datetime(2024, 5, 1), datetime(2024, 5, 3, 0, 0, 1), max_implicit=LIMIT, max_range=LONGEST
        )
    with pytest.raises(BadRequest, match="--max-range"):
        resolve_window(
            None, datetime(1001, 1, 1), datetime(9999, 1, 1), max_implicit=LIMIT, max_range=LONGEST
        )
