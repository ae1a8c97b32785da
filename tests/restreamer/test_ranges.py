"""resolve_window: implicit bounds, the 12 h limit, reversed ranges (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from wubloader.restreamer.errors import BadRequest, NotFound
from wubloader.restreamer.ranges import HourSpan, resolve_window

SPAN = HourSpan(first=datetime(2024, 5, 1, 10), last=datetime(2024, 5, 1, 12))
LIMIT = timedelta(hours=12)


def test_implicit_bounds():
    window = resolve_window(SPAN, None, None, max_implicit=LIMIT)
    assert (window.start, window.end, window.live) == (
        datetime(2024, 5, 1, 10),
        datetime(2024, 5, 1, 14),
        True,
    )
    window = resolve_window(SPAN, None, datetime(2024, 5, 1, 11), max_implicit=LIMIT)
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
        resolve_window(SPAN, start, end, max_implicit=LIMIT)


def test_explicit_ranges_may_be_long_and_need_no_hours():
    window = resolve_window(None, datetime(2024, 5, 1), datetime(2024, 5, 3), max_implicit=LIMIT)
    assert window.end - window.start == timedelta(days=2)
    with pytest.raises(NotFound):
        resolve_window(None, datetime(2024, 5, 1), None, max_implicit=LIMIT)
