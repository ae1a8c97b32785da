"""An editor's cancel stops a running cut at once; a job over missing video waits with a note."""

from __future__ import annotations

import time

import pytest

from tests.conftest import STORE_START
from tests.cutter.jobs import (
    column,
    edit_for,
    ffmpeg_children,
    reset,
    start_cutter,
    states,
    submit,
    write_locations,
)
from tests.harness.media import store_clip
from tests.harness.processes import wait_until

pytestmark = pytest.mark.ffmpeg

SLOW = ["-c:v", "libx264", "-preset", "veryslow", "-c:a", "aac"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("db_url", ["postgresql", "sqlite"], indirect=True)
def test_reset_stops_ffmpeg_and_publishes_nothing(tmp_path, store, database, db_url, components):
    out = tmp_path / "out"
    locations = write_locations(
        tmp_path, {"local": {"type": "local", "cut_type": "full", "encode_args": SLOW, "path": str(out)}}
    )
    submit(database, "long", edit_for(STORE_START, [(1, 58)]))
    cutter = start_cutter(tmp_path, store, db_url, locations)
    components.append(cutter)
    wait_until(lambda: ffmpeg_children(cutter.process.pid), 120, 0.05, "the cut's ffmpeg")
    reset(database, "long")
    cancelled = time.monotonic()
    wait_until(lambda: not ffmpeg_children(cutter.process.pid), 10, 0.02, "ffmpeg gone")
    stopped_after = time.monotonic() - cancelled
    wait_until(lambda: "the row is no longer ours" in cutter.log(), 10, message="the cancel logged")
    assert cutter.stop() == 0
    # ffmpeg is stopped on reset, not left to finish its minutes-long veryslow encode (loose: under load
    # noticing the reset and reaping ffmpeg take far longer than alone).
    assert stopped_after <= 30.0, stopped_after
    assert list(out.iterdir()) == []  # nothing published, the partial file removed
    assert states(database) == {"long": "UNEDITED"}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_missing_minute_waits_with_a_note_unless_holes_allowed(tmp_path, clip, database, db_url):
    base = tmp_path / "store"
    store_clip(base, clip, STORE_START, skip=frozenset({10, 11, 12}))  # 20-26 s missing
    out = tmp_path / "out"
    locations = write_locations(tmp_path, {"local": {"type": "local", "cut_type": "smart", "path": str(out)}})
    submit(database, "holey", edit_for(STORE_START, [(2, 10), (15, 30)]))
    cutter = start_cutter(tmp_path, base, db_url, locations, "--once", name="node-a")
    assert cutter.process.wait(timeout=200) == 0, cutter.log()
    assert states(database) == {"holey": "EDITED"}
    note = column(database, "holey", "error")
    assert note.startswith("Node node-a does not have all the video needed: range 2 (2024-05-01T10:00:15")
    assert "It may be a real hole, or not yet backfilled from a peer" in note and "Allow Holes" in note
    assert not out.exists() or list(out.iterdir()) == []
    submit(database, "holey", edit_for(STORE_START, [(2, 10), (15, 30)], allow_holes=True))
    cutter = start_cutter(tmp_path, base, db_url, locations, "--once", name="node-a")
    assert cutter.process.wait(timeout=200) == 0, cutter.log()
    assert states(database) == {"holey": "DONE"}
    assert column(database, "holey", "error") is None
    assert len(list(out.glob("*.ts"))) == 1


@pytest.mark.timeout(300)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigterm_lets_the_job_run_until_the_drain_timeout_then_releases_it(tmp_path, store, database, db_url):
    out = tmp_path / "out"
    locations = write_locations(
        tmp_path, {"local": {"type": "local", "cut_type": "full", "encode_args": SLOW, "path": str(out)}}
    )
    submit(database, "long", edit_for(STORE_START, [(1, 58)]))
    cutter = start_cutter(tmp_path, store, db_url, locations, "--drain-timeout", "1")
    wait_until(lambda: ffmpeg_children(cutter.process.pid), 120, 0.05, "the cut's ffmpeg")
    assert cutter.stop() == 0, cutter.log()
    assert "did not finish within the drain timeout" in cutter.log()
    assert states(database) == {"long": "EDITED"}
    assert column(database, "long", "uploader") is None
    assert "stopped before the job finished" in column(database, "long", "error")
    assert list(out.iterdir()) == []
