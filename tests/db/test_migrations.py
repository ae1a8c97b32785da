"""Migrations: from empty, re-run as a no-op, and over rows written at revision 1; services refuse old schemas."""

import sqlalchemy as sa

from wubloader.db import events, migrations
from wubloader.db.database import Database
from wubloader.db.errors import SchemaOutdated
from wubloader.db.event_records import SheetEvent


def test_upgrade_from_empty_then_rerun_is_a_noop(db_url):
    db = Database(db_url)
    assert db.status().current is None
    applied = db.upgrade()
    assert [r.number for r in applied] == [1, 2]
    assert db.status().up_to_date
    with db.transaction() as conn:
        before = sorted(sa.inspect(conn).get_table_names())
    assert db.upgrade() == []
    with db.transaction() as conn:
        assert sorted(sa.inspect(conn).get_table_names()) == before
    assert {"events", "nodes", "roles", "playlists", "templates", "editor_tokens"} <= set(before)
    db.require_current()
    db.close()


def test_upgrade_keeps_rows_written_at_revision_1(db_url):
    db = Database(db_url)
    migrations.upgrade(db.engine, target=1)
    with db.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (id, sheet_name, category, tags, state, upload_location, video_ranges, "
                "video_transitions, video_title, video_description, video_tags, video_channel, editor, "
                "thumbnail_mode) VALUES ('old', 'Tuesday', 'Chat', '[\"a\", \"b\"]', 'EDITED', 'local', "
                "'[[\"2024-01-01T00:00:00.000000\", \"2024-01-01T00:01:00.000000\"]]', '[]', 'T', 'D', '[]', "
                "'chan', 'x@y.z', 'NONE')"
            )
        )
        conn.execute(sa.text("INSERT INTO roles (email, name, editor) VALUES ('x@y.z', 'X', TRUE)"))
    assert db.status().current == 1
    assert [r.number for r in db.upgrade()] == [2]
    with db.transaction() as conn:
        event = events.get_event(conn, "old")
    assert event is not None
    assert event.row_version == 1 and event.claimed_until is None
    assert event.sheet.tags == ("a", "b") and event.edit.video_title == "T"
    assert event.edit.video_ranges[0].end.minute == 1
    db.close()


def test_service_refuses_an_older_schema_naming_the_command(db_url):
    db = Database(db_url)
    migrations.upgrade(db.engine, target=1)
    try:
        db.require_current()
    except SchemaOutdated as exc:
        message = str(exc)
    else:
        raise AssertionError("an old schema was accepted")
    assert "wubloader db upgrade" in message and "\n" not in message
    db.close()


def test_failed_revision_leaves_nothing_behind(db_url, monkeypatch):
    db = Database(db_url)
    migrations.upgrade(db.engine, target=1)

    def broken(conn):
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    monkeypatch.setattr(
        migrations,
        "REVISIONS",
        (migrations.REVISIONS[0], migrations.Revision(number=2, summary="broken", apply=broken)),
    )
    try:
        migrations.upgrade(db.engine)
    except RuntimeError:
        pass
    with db.transaction() as conn:
        assert "half_done" not in sa.inspect(conn).get_table_names()
        assert migrations.current_revision(conn) == 1
    monkeypatch.undo()
    db.upgrade()
    with db.transaction() as conn:
        events.insert_event(conn, SheetEvent(id="new", sheet_name="s"))
    db.close()
