"""The cutter's state transitions on both engines: one claim wins, guards, leases, clean-up."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from tests.cutter.jobs import column, edit_for, submit
from wubloader.db import cutter_jobs as q
from wubloader.db import events
from wubloader.db import published_videos as pv
from wubloader.db.database import Database

T = datetime(2024, 5, 1, 10, 0, 0)
LEASE = timedelta(seconds=60)


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    db.upgrade()
    yield db
    db.close()


def candidates(database, name="c1", explicit_only=False, locations=("local",)):
    return database.call(q.list_candidates, name=name, locations=locations, explicit_only=explicit_only)


def test_one_claim_wins_and_an_edit_voids_a_stale_read(database):
    submit(database, "e1", edit_for(T, [(0, 10)]))
    [job] = candidates(database)
    first = database.call(q.claim_job, job, name="c1", now=T, lease=LEASE)
    second = database.call(q.claim_job, job, name="c2", now=T, lease=LEASE)
    assert first is not None and second is None
    assert column(database, "e1", "uploader") == "c1" and column(database, "e1", "state") == "CLAIMED"
    submit(database, "e2", edit_for(T, [(0, 10)]))
    [stale] = candidates(database)
    submit(database, "e2", edit_for(T, [(0, 20)]))  # edited after being read
    assert database.call(q.claim_job, stale, name="c1", now=T, lease=LEASE) is None


def test_whitelist_and_locations(database):
    submit(database, "open", edit_for(T, [(0, 1)]))
    submit(database, "pinned", edit_for(T, [(0, 1)], whitelist=("c2",)))
    submit(database, "elsewhere", edit_for(T, [(0, 1)], location="youtube"))
    assert {j.id for j in candidates(database)} == {"open"}
    assert {j.id for j in candidates(database, name="c2")} == {"open", "pinned"}
    assert {j.id for j in candidates(database, name="c2", explicit_only=True)} == {"pinned"}
    assert {j.id for j in candidates(database, locations=("youtube", "local"))} == {"open", "elsewhere"}


def test_writes_need_the_claim_and_reset_cancels(database):
    submit(database, "e1", edit_for(T, [(0, 10)]))
    [job] = candidates(database)
    claim = database.call(q.claim_job, job, name="c1", now=T, lease=LEASE)
    assert database.call(q.renew_lease, claim, now=T, lease=LEASE)
    with database.transaction() as conn:
        assert events.reset_event(conn, "e1", force=False)
    assert not database.call(q.renew_lease, claim, now=T, lease=LEASE)
    assert database.call(q.mark_finalizing, claim) is None
    assert column(database, "e1", "state") == "UNEDITED"


def test_publish_path(database):
    submit(database, "e1", edit_for(T, [(0, 10)]))
    [job] = candidates(database)
    claim = database.call(q.claim_job, job, name="c1", now=T, lease=LEASE)
    claim = database.call(q.mark_finalizing, claim)
    claim = database.call(
        q.mark_published, claim, video_id="v", video_link="L", transcoding=True, now=T, thumbnail_hash=None
    )
    assert claim is not None and column(database, "e1", "state") == "TRANSCODING"
    [row] = database.call(pv.transcoding_rows, "local")
    assert row.video_id == "v"
    assert database.call(pv.mark_transcoded, ["e1"], now=T) == ["e1"]
    assert database.call(pv.mark_transcoded, ["e1"], now=T) == []
    assert column(database, "e1", "state") == "DONE" and column(database, "e1", "upload_time") == T


def test_expired_lease_returns_the_job_with_a_note(database):
    submit(database, "e1", edit_for(T, [(0, 10)]))
    [job] = candidates(database)
    claim = database.call(q.claim_job, job, name="dead", now=T, lease=LEASE)
    assert database.call(q.release_expired, now=T + timedelta(seconds=30)) == []
    assert database.call(q.release_expired, now=T + timedelta(seconds=61)) == ["e1"]
    assert column(database, "e1", "state") == "EDITED" and column(database, "e1", "uploader") is None
    assert "dead stopped renewing" in column(database, "e1", "error")
    assert not database.call(q.renew_lease, claim, now=T, lease=LEASE)  # the dead one's claim is void
    [again] = candidates(database)
    assert database.call(q.claim_job, again, name="c2", now=T, lease=LEASE) is not None
    assert column(database, "e1", "error") is None


def test_startup_rollback_and_errors(database):
    for name in ("a", "b"):
        submit(database, name, edit_for(T, [(0, 10)]))
    claims = {
        job.id: database.call(q.claim_job, job, name="c1", now=T, lease=LEASE) for job in candidates(database)
    }
    database.call(q.mark_finalizing, claims["b"])
    released, stuck = database.call(q.rollback_own, name="c1")
    assert (released, stuck) == (["a"], ["b"])
    assert column(database, "a", "state") == "EDITED"
    assert column(database, "b", "error").startswith("An error occurred during FINALIZING")


def test_failures_and_candidate_notes(database):
    submit(database, "e1", edit_for(T, [(0, 10)]))
    [job] = candidates(database)
    assert database.call(q.note_candidate, job, error="node lacks video")
    assert not database.call(q.note_candidate, job, error="second note")  # only when none
    assert column(database, "e1", "error") == "node lacks video"
    claim = database.call(q.claim_job, job, name="c1", now=T, lease=LEASE)
    assert database.call(q.return_to_unedited, claim, error="bad cut") is not None
    assert column(database, "e1", "state") == "UNEDITED" and column(database, "e1", "uploader") == "c1"


def test_modified_rows_finish_only_if_unchanged(database):
    submit(database, "e1", edit_for(T, [(0, 10)]))
    [job] = candidates(database)
    claim = database.call(q.claim_job, job, name="c1", now=T, lease=LEASE)
    claim = database.call(q.mark_finalizing, claim)
    database.call(
        q.mark_published, claim, video_id="v", video_link="L", transcoding=False, now=T, thumbnail_hash=None
    )
    with database.transaction() as conn:
        assert events.modify_published(conn, "e1", {"video_title": "New"}, editor="e", now=T, version=None)
    [row] = database.call(pv.modified_rows, "local")
    assert row.edit.video_title == "New"
    with database.transaction() as conn:
        events.modify_published(conn, "e1", {"video_title": "Newer"}, editor="e", now=T, version=None)
    assert not database.call(pv.finish_modified, row, thumbnail_image=None, thumbnail_hash=None)
    [row] = database.call(pv.modified_rows, "local")
    assert database.call(pv.finish_modified, row, thumbnail_image=None, thumbnail_hash=None)
    assert column(database, "e1", "state") == "DONE"
    assert dataclasses.replace(row.edit).video_title == "Newer"
