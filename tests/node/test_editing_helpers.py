"""The editing side's pure choices: which window a demo event covers (the newest hole-free stretch already
archived, never a gap) and which restreamer address the editor's pages play from."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.harness.store_builder import build_store
from wubloader.node.demo_events import archived_window
from wubloader.node.editing_config import DemoEvents
from wubloader.node.node import restreamer_url_for_editor
from wubloader.store import SegmentIndex

T0 = datetime(2026, 11, 30, 1, 59, 0)  # the stretch crosses an hour boundary
DEMO = DemoEvents(channel="demo", quality="source", window=120.0, min_window=30.0)


def window_of(tmp_path, count: int, skip: set[int], now: datetime):  # type: ignore[no-untyped-def]
    build_store(tmp_path, T0, count, channel="demo", skip=skip)
    return archived_window(SegmentIndex(tmp_path, settle_seconds=0), DEMO, now)


def test_the_newest_stretch_after_a_hole_even_when_archiving_stopped_since(tmp_path):
    # segments 0-4, a hole at 5, then 6-29 (48 s); "now" is 20 s after the last segment ends
    now = T0 + timedelta(seconds=80)
    assert window_of(tmp_path, 30, {5}, now) == (T0 + timedelta(seconds=12), T0 + timedelta(seconds=60))


def test_starts_within_the_window_and_needs_min_window(tmp_path):
    now = T0 + timedelta(seconds=200)  # 100 segments: only the last 120 s count
    start, end = window_of(tmp_path, 100, set(), now)
    assert (start, end) == (now - timedelta(seconds=120), now)


def test_nothing_while_too_little_is_archived(tmp_path):
    assert window_of(tmp_path, 14, set(), T0 + timedelta(seconds=28)) is None  # 28 s < 30 s


@pytest.mark.parametrize(
    ("url", "editor_host", "expected"),
    [
        ("http://0.0.0.0:8000", "127.0.0.1", "http://127.0.0.1:8000"),  # the demo with --host 0.0.0.0
        ("http://[::]:8000", "::1", "http://[::1]:8000"),
        ("http://10.0.0.5:8000", "127.0.0.1", "http://10.0.0.5:8000"),  # a specific address stays
        ("http://0.0.0.0:8000", "0.0.0.0", "http://0.0.0.0:8000"),  # nothing better to say
    ],
)
def test_the_editor_plays_from_an_address_the_browser_can_reach(url, editor_host, expected):
    assert restreamer_url_for_editor(url, 8000, editor_host) == expected
