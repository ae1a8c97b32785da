"""Waveform peaks per hour: decoded once, extended when the hour grows, holes left empty, LRU-bounded,
and served at `/waveform/{channel}/{quality}/{hour}.peaks`."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from wubloader.media.waveform import NO_AUDIO, PEAKS_PER_SECOND
from wubloader.restreamer.peaks_cache import BINS_PER_HOUR, PeaksCache
from wubloader.store import SegmentIndex

pytestmark = pytest.mark.ffmpeg
HOLE = frozenset({10})  # the clip's segment 10: 20-22 s


class CountingSlots:
    """The media slot the cache holds around each ffmpeg run, counting the runs."""

    def __init__(self) -> None:
        self.runs = 0

    @contextlib.asynccontextmanager
    async def hold(self):  # type: ignore[no-untyped-def]
        self.runs += 1
        yield


def make_cache(base, slots: CountingSlots, max_bytes: int = 1 << 20) -> PeaksCache:
    index = SegmentIndex(base, settle_seconds=0)
    return PeaksCache(index, max_bytes=max_bytes, time_limit=60, slot=slots.hold, confine=lambda chain: None)


def seconds(first: float, last: float) -> slice:
    return slice(round(first * PEAKS_PER_SECOND), round(last * PEAKS_PER_SECOND))


async def test_decoded_once_holes_empty_and_a_growing_hour_decodes_only_what_is_new(tmp_path, clip):
    store_clip(tmp_path, clip, STORE_START, skip=HOLE)
    slots = CountingSlots()
    cache = make_cache(tmp_path, slots)
    first = await cache.hour_peaks("chan", "source", STORE_START)
    assert len(first) == BINS_PER_HOUR and slots.runs == 2  # 0-20 s and 22-60 s
    assert NO_AUDIO not in first[seconds(0.1, 19.9)] and NO_AUDIO not in first[seconds(22.1, 59.9)]
    assert set(first[seconds(20.1, 21.9)]) == {NO_AUDIO}
    assert set(first[seconds(60.1, 3600)]) == {NO_AUDIO}

    assert await cache.hour_peaks("chan", "source", STORE_START) == first
    assert slots.runs == 2  # kept: nothing decoded again

    store_clip(tmp_path, clip, STORE_START + timedelta(seconds=60))  # the live hour grows
    grown = await cache.hour_peaks("chan", "source", STORE_START)
    assert slots.runs == 3
    assert grown[seconds(0, 59.9)] == first[seconds(0, 59.9)]
    assert NO_AUDIO not in grown[seconds(60.1, 119.9)]


async def test_an_hour_over_the_budget_is_decoded_each_time(tmp_path, clip):
    store_clip(tmp_path, clip, STORE_START)
    slots = CountingSlots()
    cache = make_cache(tmp_path, slots, max_bytes=BINS_PER_HOUR - 1)
    assert await cache.hour_peaks("chan", "source", STORE_START) == await cache.hour_peaks(
        "chan", "source", STORE_START
    )
    assert slots.runs == 2


async def test_peaks_route(tmp_path, clip, make_client):
    store_clip(tmp_path, clip, STORE_START, skip=HOLE)
    client = await make_client(tmp_path)
    response = await client.get(f"/waveform/chan/source/{STORE_START:%Y-%m-%dT%H}.peaks")
    assert response.status == 200 and response.content_type == "application/octet-stream"
    body = await response.read()
    expected = await make_cache(tmp_path, CountingSlots()).hour_peaks("chan", "source", STORE_START)
    assert body == expected
    empty = await client.get(f"/waveform/chan/source/{STORE_START + timedelta(hours=1):%Y-%m-%dT%H}.peaks")
    assert empty.status == 200 and set(await empty.read()) == {NO_AUDIO}
    bad = await client.get("/waveform/chan/source/2024-05-01T1.peaks")
    assert bad.status == 400 and "expected YYYY-MM-DDTHH" in await bad.text()
    missing = await client.get(f"/waveform/nochan/source/{STORE_START:%Y-%m-%dT%H}.peaks")
    assert missing.status == 404
