"""A real cutter process publishes 3 ranges + a fade with smart, fast and full cuts (SQLite, one node)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import STORE_START
from tests.cutter.jobs import edit_for, row, start_cutter, submit, write_locations
from tests.harness.cut_check import FPS, decode_errors, packets
from wubloader.db.schema import EventState

pytestmark = pytest.mark.ffmpeg

SPANS = [(2.5, 12.3), (20.1, 31.7), (40.2, 52.9)]
TRANSITIONS = [("fade", 1.0), None]
EXPECTED = sum(b - a for a, b in SPANS) - 1.0


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_three_ranges_and_a_fade_per_cut_type(tmp_path, store, database, db_url):
    out = tmp_path / "out"
    locations = {
        kind: {"type": "local", "cut_type": kind, "path": str(out / kind)}
        for kind in ("smart", "fast", "full")
    }
    path = write_locations(tmp_path, locations)
    for kind in locations:
        submit(
            database,
            kind,
            edit_for(STORE_START, SPANS, transitions=TRANSITIONS, location=kind, title=f"T {kind}"),
        )
    cutter = start_cutter(tmp_path, store, db_url, path, "--once", "--jobs", "2")
    assert cutter.process.wait(timeout=500) == 0, cutter.log()
    for kind in locations:
        event = row(database, kind)
        assert event.state is EventState.DONE, (kind, event.error)
        [video] = (out / kind).glob("*.ts")
        assert event.video_link == video.absolute().as_uri()
        # fast keeps source timestamps (they jump at range joins), so its duration is its frame count.
        got = packets(video)
        duration = got.frames / FPS if kind == "fast" else got.duration
        assert abs(duration - EXPECTED) <= 1 / FPS, (kind, duration)
        info = json.loads(video.with_suffix(".json").read_text())
        assert info == {
            "title": f"T {kind}",
            "description": "description",
            "tags": ["tag1", "tag2"],
            "public": True,
        }
        if kind != "fast":
            assert decode_errors(video) == "", kind
