"""The local check before a claim: which range or thumbnail frame this node lacks (no media needed)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from tests.cutter.jobs import edit_for
from tests.harness.store_builder import build_store
from wubloader.cutter.candidates import CutInputs, MissingData, cut_inputs
from wubloader.db.cutter_jobs import CutJob
from wubloader.db.event_records import VideoRange
from wubloader.db.schema import ThumbnailMode
from wubloader.store.selection import SegmentIndex

LATER = STORE_START + timedelta(days=1)


@pytest.fixture
def index(tmp_path):
    build_store(tmp_path, STORE_START, 30, skip={10, 11, 12})  # 60 s, 20-26 s missing
    return SegmentIndex(tmp_path)


def job(**kwargs) -> CutJob:
    return CutJob(id="e", version=1, edit=edit_for(STORE_START, **kwargs), has_thumbnail_image=False)


def test_complete_ranges_give_the_engine_inputs(index):
    inputs = cut_inputs(job(spans=[(1, 5), (30, 40)], transitions=[("fade", 0.5)]), index, LATER)
    assert isinstance(inputs, CutInputs)
    assert [r.seconds for r in inputs.ranges] == [4.0, 10.0]
    assert inputs.transitions[0].name == "fade" and len(inputs.chains) == 2


def test_a_hole_names_the_range_and_whether_it_is_recent(index):
    missing = cut_inputs(job(spans=[(2, 10), (15, 30)]), index, LATER)
    assert isinstance(missing, MissingData) and missing.what.startswith("range 2 (2024-05-01T10:00:15")
    assert "a real hole" in missing.note("n1")
    recent = cut_inputs(job(spans=[(2, 10), (15, 30)]), index, STORE_START + timedelta(minutes=2))
    assert "probably not downloaded or backfilled yet" in recent.note("n1")
    assert isinstance(cut_inputs(job(spans=[(15, 30)], allow_holes=True), index, LATER), CutInputs)
    nothing = cut_inputs(job(spans=[(100, 110)], allow_holes=True), index, LATER)  # no video at all
    assert isinstance(nothing, MissingData)


def test_thumbnail_frame_must_exist_unless_stored(index):
    edit = dict(spans=[(1, 5)], thumbnail=ThumbnailMode.BARE, thumbnail_at=21.0)
    missing = cut_inputs(job(**edit), index, LATER)
    assert isinstance(missing, MissingData) and missing.what.startswith("the thumbnail frame at")
    stored = dataclasses.replace(job(**edit), has_thumbnail_image=True)
    assert isinstance(cut_inputs(stored, index, LATER), CutInputs)


def test_open_range_is_a_bad_row(index):
    broken = job(spans=[(1, 5)])
    broken = dataclasses.replace(
        broken, edit=dataclasses.replace(broken.edit, video_ranges=(VideoRange(start=STORE_START, end=None),))
    )
    with pytest.raises(ValueError, match="no start or end"):
        cut_inputs(broken, index, LATER)
