"""PostgreSQL wakes cutters: a row entering EDITED sends NOTIFY wubloader_events with its id."""

import dataclasses

import psycopg

from tests.db.states import EDIT, T0, new_event
from wubloader.db import events
from wubloader.db.database import Database
from wubloader.db.dialect import NOTIFY_CHANNEL
from wubloader.db.schema import EventState


def test_entering_edited_notifies_once(postgres_server):
    url = postgres_server.create_database()
    database = Database(url)
    database.upgrade()
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with database.transaction() as conn:
            new_event(conn, "draft")
            new_event(conn, "ev1")
            events.save_edit(conn, "draft", EDIT, state=EventState.UNEDITED, editor="e", now=T0, version=None)
            events.save_edit(conn, "ev1", EDIT, state=EventState.EDITED, editor="e", now=T0, version=None)
        with database.transaction() as conn:  # EDITED → EDITED is not a new job
            events.save_edit(
                conn,
                "ev1",
                dataclasses.replace(EDIT, video_title="x"),
                state=EventState.EDITED,
                editor="e",
                now=T0,
                version=None,
            )
        received = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
    assert received == ["ev1"]
    database.close()
    postgres_server.drop_database(url)
