"""The events query layer on both engines: exact round trips, listing, every transition and its guard."""

import dataclasses
from datetime import datetime, timedelta

import pytest

from tests.db.states import EDIT, T0, new_event, put_in_state
from wubloader.db import events
from wubloader.db.errors import ConstraintViolation
from wubloader.db.event_records import SheetEvent, Transition, VideoRange
from wubloader.db.events import EventFilter
from wubloader.db.schema import EventState

ALL_STATES = list(EventState)
NOW = datetime(2024, 12, 1, 0, 0, 0, 7)


def test_edit_columns_round_trip_exactly(database):
    edit = dataclasses.replace(
        EDIT,
        video_transitions=(None,),
        thumbnail_image=b"\x89PNG\r\n\x1a\n\x00\xff",
        uploader_whitelist=("a", "b"),
        video_ranges=(EDIT.video_ranges[0], VideoRange(start=T0, end=None)),
    )
    with database.transaction() as conn:
        new_event(conn, event_end=T0 + timedelta(hours=1), tags=("x", "y"), notes="n")
        assert events.save_edit(
            conn, "ev1", edit, state=EventState.UNEDITED, editor="e@x.y", now=NOW, version=1
        )
    with database.transaction() as conn:
        event = events.get_event(conn, "ev1")
    assert event.edit == edit
    assert event.sheet == SheetEvent(
        id="ev1",
        sheet_name="Tuesday",
        event_start=T0,
        event_end=T0 + timedelta(hours=1),
        tags=("x", "y"),
        notes="n",
    )
    assert (event.state, event.editor, event.edit_time, event.row_version) == ("UNEDITED", "e@x.y", NOW, 2)
    assert event.has_thumbnail_image
    with database.transaction() as conn:
        assert events.save_edit(conn, "ev1", EDIT, state=EventState.EDITED, editor="e", now=NOW, version=2)
        assert events.get_event(conn, "ev1").edit.video_transitions == (
            Transition(type="fade", duration=0.1 + 0.2),
        )


def test_list_filters_orders_and_never_ships_thumbnails(database):
    with database.transaction() as conn:
        for number in range(5):
            events.insert_event(
                conn,
                SheetEvent(
                    id=f"e{number}",
                    sheet_name="s",
                    category="cat" if number % 2 else "",
                    event_start=T0 + timedelta(hours=4 - number),
                ),
            )
        events.insert_event(conn, SheetEvent(id="nostart", sheet_name="s"))
        events.save_edit(
            conn,
            "e1",
            dataclasses.replace(EDIT, thumbnail_image=b"png"),
            state=EventState.EDITED,
            editor="e",
            now=NOW,
            version=None,
        )
    with database.transaction() as conn:
        everything = events.list_events(conn)
        assert [e.sheet.id for e in everything] == ["e4", "e3", "e2", "e1", "e0", "nostart"]
        assert all(e.edit.thumbnail_image is None for e in everything)
        assert [e.has_thumbnail_image for e in everything].count(True) == 1
        assert [e.sheet.id for e in events.list_events(conn, EventFilter(state=EventState.EDITED))] == ["e1"]
        assert [e.sheet.id for e in events.list_events(conn, EventFilter(category="cat"))] == ["e3", "e1"]
        since = events.list_events(conn, EventFilter(since=T0 + timedelta(hours=3)))
        assert [e.sheet.id for e in since] == ["e1", "e0", "nostart"]
        assert events.thumbnail_image(conn, "e1") == b"png"


def test_upsert_touches_only_sheet_columns(database):
    with database.transaction() as conn:
        put_in_state(conn, "ev1", EventState.EDITED)
        inserted, updated = events.upsert_sheet_events(
            conn,
            [
                SheetEvent(id="ev1", sheet_name="Wednesday", description="new"),
                SheetEvent(id="ev2", sheet_name="s"),
            ],
        )
    assert (inserted, updated) == (1, 1)
    with database.transaction() as conn:
        event = events.get_event(conn, "ev1")
    assert (event.sheet.sheet_name, event.sheet.description, event.state) == ("Wednesday", "new", "EDITED")
    assert event.edit == EDIT


@pytest.mark.parametrize("state", ALL_STATES)
def test_save_edit_only_from_editable_states(database, state):
    with database.transaction() as conn:
        put_in_state(conn, "ev1", state)
        moved = events.save_edit(
            conn, "ev1", EDIT, state=EventState.UNEDITED, editor="e", now=NOW, version=None
        )
        assert moved == (state in events.EDITABLE_STATES)
        event = events.get_event(conn, "ev1")
    if moved:
        assert (event.state, event.uploader, event.error, event.claimed_until) == (
            "UNEDITED",
            None,
            None,
            None,
        )
    else:
        assert event.state == state


@pytest.mark.parametrize("state", ALL_STATES)
def test_modify_published_only_from_done_or_modified(database, state):
    with database.transaction() as conn:
        put_in_state(conn, "ev1", state)
        moved = events.modify_published(
            conn, "ev1", {"video_title": "New", "video_ranges": ()}, editor="e", now=NOW, version=None
        )
        assert moved == (state in events.PUBLISHED_STATES)
        event = events.get_event(conn, "ev1")
    if moved:
        assert (event.state, event.edit.video_title, event.last_modified) == ("MODIFIED", "New", NOW)
        assert event.edit.video_ranges == EDIT.video_ranges  # not modifiable after upload


@pytest.mark.parametrize("state", ALL_STATES)
def test_manual_link_only_from_unedited(database, state):
    with database.transaction() as conn:
        put_in_state(conn, "ev1", state)
        moved = events.link_manually(
            conn,
            "ev1",
            upload_location="manual",
            video_link="https://x/1",
            video_id=None,
            editor="e",
            now=NOW,
        )
        assert moved == (state is EventState.UNEDITED)
        assert events.get_event(conn, "ev1").state == ("DONE" if moved else state)


@pytest.mark.parametrize("state", ALL_STATES)
@pytest.mark.parametrize("force", [False, True])
def test_reset(database, state, force):
    with database.transaction() as conn:
        put_in_state(conn, "ev1", state)
        moved = events.reset_event(conn, "ev1", force=force)
        assert moved == (force or state in events.EDITABLE_STATES)
        event = events.get_event(conn, "ev1")
    if moved:
        assert (event.state, event.video_link, event.uploader, event.editor) == ("UNEDITED", None, None, None)


def test_stale_version_loses(database):
    with database.transaction() as conn:
        new_event(conn)
        assert events.save_edit(conn, "ev1", EDIT, state=EventState.UNEDITED, editor="a", now=NOW, version=1)
        assert not events.save_edit(
            conn, "ev1", EDIT, state=EventState.UNEDITED, editor="b", now=NOW, version=1
        )
        assert events.get_event(conn, "ev1").editor == "a"


def test_duplicate_id_is_a_constraint_violation(database):
    with database.transaction() as conn:
        new_event(conn)
    with pytest.raises(ConstraintViolation), database.transaction() as conn:
        new_event(conn)
