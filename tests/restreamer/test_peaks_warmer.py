"""Background decoding of recent complete hours' waveform peaks: which hours, once each, yielding to
editors when every media slot is taken, and running inside the real app."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from tests.restreamer.test_peaks_cache import CountingSlots, make_cache
from wubloader.restreamer.config import RestreamerConfig
from wubloader.restreamer.errors import Busy
from wubloader.restreamer.peaks_warmer import PeaksWarmer, WarmSettings, recent_hours
from wubloader.restreamer.state import STATE
from wubloader.runtime.errors import RuntimeConfigError

pytestmark = pytest.mark.ffmpeg
HOUR = timedelta(hours=1)
GRACE = timedelta(minutes=2)
SETTINGS = WarmSettings(hours=2, grace=GRACE)


def test_recent_hours_are_complete_hours_past_the_grace_newest_first():
    noon = STORE_START.replace(hour=12)
    assert recent_hours(noon + timedelta(minutes=3), 2, GRACE) == [noon - HOUR, noon - 2 * HOUR]
    # The 11:00 hour ended a minute ago: still within the grace, the 10:00 hour is the newest.
    assert recent_hours(noon + timedelta(minutes=1), 1, GRACE) == [noon - 2 * HOUR]
    assert recent_hours(noon, 0, GRACE) == []


async def test_each_recent_stored_hour_is_decoded_once_into_the_cache(tmp_path, clip):
    store_clip(tmp_path, clip, STORE_START)
    (tmp_path / "chan" / "chat" / f"{STORE_START:%Y-%m-%dT%H}").mkdir(parents=True)  # not video: skipped
    slots = CountingSlots()
    cache = make_cache(tmp_path, slots)
    now = STORE_START + timedelta(minutes=30)
    warmer = PeaksWarmer(tmp_path, cache, SETTINGS, lambda: now)
    assert await warmer.warm_once() == [] and slots.runs == 0  # the hour is not complete yet

    now = STORE_START + HOUR + GRACE
    assert await warmer.warm_once() == [("chan", "source", STORE_START)]
    assert slots.runs == 1 and cache.kept("chan", "source", STORE_START)
    assert await warmer.warm_once() == [] and slots.runs == 1
    expected = await make_cache(tmp_path, CountingSlots()).hour_peaks("chan", "source", STORE_START)
    assert await cache.hour_peaks("chan", "source", STORE_START) == expected
    assert slots.runs == 1  # the editor's first view found it decoded


async def test_busy_media_slots_postpone_the_hour_to_the_next_look(tmp_path, clip):
    store_clip(tmp_path, clip, STORE_START)
    busy = True

    @contextlib.asynccontextmanager
    async def hold():  # type: ignore[no-untyped-def]
        if busy:
            raise Busy("all media slots are taken")
        yield

    cache = make_cache(tmp_path, CountingSlots())
    cache.slot = hold
    warmer = PeaksWarmer(tmp_path, cache, SETTINGS, lambda: STORE_START + HOUR + GRACE)
    assert await warmer.warm_once() == []
    busy = False
    assert await warmer.warm_once() == [("chan", "source", STORE_START)]


async def test_the_app_decodes_recent_hours_in_the_background(tmp_path, clip, make_client):
    store_clip(tmp_path, clip, STORE_START)
    client = await make_client(tmp_path, now=lambda: STORE_START + HOUR + GRACE, warm_peaks_hours=1)
    peaks = client.app[STATE].peaks
    deadline = time.monotonic() + 120
    while not peaks.kept("chan", "source", STORE_START):
        assert time.monotonic() < deadline, "the recent hour was never decoded"
        await asyncio.sleep(0.05)
    response = await client.get(f"/waveform/chan/source/{STORE_START:%Y-%m-%dT%H}.peaks")
    assert response.status == 200 and len(await response.read()) == 3600 * 20


def test_a_negative_number_of_hours_is_a_config_error(tmp_path):
    with pytest.raises(RuntimeConfigError, match="warm_peaks_hours must be ≥ 0, got -1"):
        RestreamerConfig(base_dir=tmp_path, warm_peaks_hours=-1)
