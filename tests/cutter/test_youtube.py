"""Real cutter processes publishing to the fake YouTube: resume, ambiguity, processing, updates."""

from __future__ import annotations

import json

import pytest

from tests.conftest import STORE_START
from tests.cutter.jobs import column, edit_for, row, start_cutter, states, submit, write_locations
from tests.fakes_youtube import CREDENTIALS, FakeYouTube
from tests.harness.processes import wait_until
from wubloader.db import events
from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.thumbnails.compose import thumbnail_hash

pytestmark = [pytest.mark.ffmpeg, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

SPANS = [(3.3, 40.1)]
CHUNK = 256 * 1024


@pytest.fixture
def fake():
    server = FakeYouTube().start()
    yield server
    server.stop()


def run_once(tmp_path, store, db_url, locations, creds):
    cutter = start_cutter(tmp_path, store, db_url, locations, "--once", creds=creds)
    code = cutter.process.wait(timeout=200)
    return code, cutter.log()


def setup(tmp_path, fake, **youtube):
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps(CREDENTIALS))
    locations = write_locations(
        tmp_path,
        {"yt": fake.location_options(cut_type="smart", chunk_size=CHUNK, **youtube),
         "local": {"type": "local", "cut_type": "smart", "path": str(tmp_path / "out")}},
    )  # fmt: skip
    return locations, creds


@pytest.mark.timeout(300)
def test_break_at_60_percent_resumes_and_processed_means_done(tmp_path, store, database, db_url, fake):
    locations, creds = setup(tmp_path, fake)
    submit(database, "ref", edit_for(STORE_START, SPANS, location="local"))
    assert run_once(tmp_path, store, db_url, locations, creds)[0] == 0
    [reference] = (tmp_path / "out").glob("*.ts")
    expected = reference.read_bytes()
    fake.break_at = int(len(expected) * 0.6)
    submit(database, "yt", edit_for(STORE_START, SPANS, location="yt", title="Resumed"))
    code, log = run_once(tmp_path, store, db_url, locations, creds)
    assert code == 0, log
    assert fake.broke and "asking the server where to resume" in log
    [video] = fake.videos.values()
    assert video.data == expected  # every byte exactly once, in order
    assert video.snippet["title"] == "Resumed" and video.status["privacyStatus"] == "public"
    assert states(database)["yt"] == "TRANSCODING"
    assert column(database, "yt", "video_link") == f"https://youtu.be/{video.video_id}"
    fake.mark_processed(video.video_id)
    assert run_once(tmp_path, store, db_url, locations, creds)[0] == 0
    assert states(database)["yt"] == "DONE"


@pytest.mark.timeout(300)
def test_5xx_after_the_whole_body_leaves_finalizing(tmp_path, store, database, db_url, fake):
    locations, creds = setup(tmp_path, fake)
    fake.fail_after_body = 503
    submit(database, "yt", edit_for(STORE_START, SPANS, location="yt"))
    code, log = run_once(tmp_path, store, db_url, locations, creds)
    assert code == 1, log  # --once: a job did not succeed
    event = row(database, "yt")
    assert event.state is EventState.FINALIZING
    assert (
        "An error occurred during FINALIZING, please determine if video was actually uploaded" in event.error
    )
    assert "503" in event.error


@pytest.mark.timeout(300)
def test_modified_row_updates_metadata_and_only_a_changed_thumbnail(tmp_path, store, database, db_url, fake):
    locations, creds = setup(tmp_path, fake)
    fake.process_immediately = True
    edit = edit_for(STORE_START, SPANS, location="yt", thumbnail=ThumbnailMode.BARE, thumbnail_at=5.0)
    submit(database, "yt", edit)
    assert run_once(tmp_path, store, db_url, locations, creds)[0] == 0
    assert states(database)["yt"] == "DONE"  # processed at once: the same --once pass marks it
    [video] = fake.videos.values()
    assert len(video.thumbnails) == 1
    assert column(database, "yt", "thumbnail_last_written") == thumbnail_hash(video.thumbnails[0])
    changes = {"video_title": "Better title", "video_tags": ("new",)}
    with database.transaction() as conn:
        assert events.modify_published(conn, "yt", changes, editor="e", now=STORE_START, version=None)
    assert run_once(tmp_path, store, db_url, locations, creds)[0] == 0
    assert states(database)["yt"] == "DONE"
    assert video.snippet["title"] == "Better title" and video.snippet["tags"] == ["new"]
    assert fake.updates == 1 and len(video.thumbnails) == 1  # same thumbnail: not re-sent
    moved = {"thumbnail_time": STORE_START.replace(second=30), "thumbnail_image": None}
    with database.transaction() as conn:
        assert events.modify_published(conn, "yt", moved, editor="e", now=STORE_START, version=None)
    assert run_once(tmp_path, store, db_url, locations, creds)[0] == 0
    assert len(video.thumbnails) == 2 and video.thumbnails[0] != video.thumbnails[1]
    assert fake.updates == 1  # metadata unchanged: no PUT
    assert column(database, "yt", "thumbnail_last_written") == thumbnail_hash(video.thumbnails[1])


@pytest.mark.timeout(300)
def test_stop_while_the_last_chunk_waits_for_an_answer_leaves_finalizing(
    tmp_path, store, database, db_url, fake
):
    locations, creds = setup(tmp_path, fake)
    fake.stall_final = True
    submit(database, "yt", edit_for(STORE_START, SPANS, location="yt"))
    cutter = start_cutter(tmp_path, store, db_url, locations, "--drain-timeout", "1", creds=creds)
    wait_until(lambda: states(database)["yt"] == "FINALIZING", 120, 0.05, "the last chunk sent")
    assert cutter.stop() == 0, cutter.log()
    event = row(database, "yt")
    assert event.state is EventState.FINALIZING  # not EDITED: the video may exist
    assert (
        "stopped while finishing" in event.error
        and "please determine if video was actually uploaded" in event.error
    )
