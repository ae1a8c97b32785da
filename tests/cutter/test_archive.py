"""local-archive: whole segments, untouched, into a directory per video; transitions refused."""

from __future__ import annotations

import pytest

from tests.conftest import STORE_START
from tests.cutter.jobs import column, edit_for, row, start_cutter, submit, write_locations
from wubloader.db.schema import EventState

pytestmark = [pytest.mark.ffmpeg, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


@pytest.mark.timeout(300)
def test_archive_copies_whole_segments(tmp_path, clip, store, database, db_url):
    out = tmp_path / "archive"
    locations = write_locations(tmp_path, {"arch": {"type": "local-archive", "path": str(out)}})
    submit(database, "whole", edit_for(STORE_START, [(3.1, 8.9)], location="arch", title="Whole one"))
    submit(
        database,
        "faded",
        edit_for(STORE_START, [(1, 5), (9, 14)], transitions=[("fade", 1.0)], location="arch"),
    )
    cutter = start_cutter(tmp_path, store, db_url, locations, "--once")
    assert cutter.process.wait(timeout=200) == 1, cutter.log()  # one job refused
    event = row(database, "whole")
    assert event.state is EventState.DONE, event.error
    directory = out / event.video_id
    assert event.video_link == directory.absolute().as_uri()
    # Segments 2 s long: [3.1, 8.9) needs segments 1-4, byte for byte.
    assert (directory / "Whole_one.ts").read_bytes() == b"".join(clip.segments[1:5])
    assert (directory / "info.json").exists()
    assert column(database, "faded", "state") == "UNEDITED"
    assert "cannot have transitions" in column(database, "faded", "error")
