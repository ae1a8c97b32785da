"""Event routes over both engines: listing, the editor's round trip, every transition the API offers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.db.states import put_in_state
from tests.thrimshim.conftest import NOW, PNG, T0, b64, bearer, edit_body, sheet_json
from wubloader.db import events, playlists
from wubloader.db.event_records import SheetEvent
from wubloader.db.schema import EventState
from wubloader.media.transitions import TRANSITIONS
from wubloader.thrimshim.rows_json import event_json


async def post(client, seeded, path, body=None, **params):
    return await client.post(
        path, json=body if body is not None else {}, headers=bearer(seeded.editor), params=params
    )


async def test_list_has_no_thumbnail_bytes_and_filters(client, seeded, database):
    with database.transaction() as conn:
        for number in range(3):
            events.insert_event(
                conn,
                SheetEvent(
                    id=f"n{number}", sheet_name="s", category="Game", event_start=T0 + timedelta(days=number)
                ),
            )
    response = await post(
        client, seeded, "/thrimshim/ev1", edit_body(thumbnail_mode="CUSTOM", thumbnail_image=b64(PNG))
    )
    assert response.status == 201, await response.text()
    rows = await (await client.get("/thrimshim")).json()
    assert [r["id"] for r in rows] == ["ev1", "n0", "n1", "n2"]
    assert all("thumbnail_image" not in r for r in rows)
    assert rows[0]["has_thumbnail_image"] is True and rows[0]["event_end"] == "2024-11-10T04:00:00.000000"
    assert [r["id"] for r in await (await client.get("/thrimshim?state=EDITED")).json()] == ["ev1"]
    assert [
        r["id"]
        for r in await (await client.get("/thrimshim?category=Game&since=2024-11-11T00:00:00Z")).json()
    ] == ["n1", "n2"]
    thumb = await client.get("/thrimshim/event-thumbnail/ev1.png")
    assert thumb.status == 200 and await thumb.read() == PNG
    assert (await client.get("/thrimshim/event-thumbnail/n0.png")).status == 404


async def test_get_decorates_and_post_of_the_same_row_changes_nothing(client, seeded, database):
    with database.transaction() as conn:
        playlists.put_playlist(
            conn,
            playlists.Playlist(
                id="p1", name="Best of", tags=("y",), playlist_id="PL1", show_in_description=True
            ),
        )
        playlists.put_playlist(
            conn,
            playlists.Playlist(
                id="all", tags=(), playlist_id="PL0", show_in_description=True, default_template="standard"
            ),
        )
    fresh = await (await client.get("/thrimshim/ev1")).json()
    assert fresh["thumbnail_template"] == "standard"  # from the all-videos playlist
    assert fresh["thumbnail_time"] == "2024-11-10T03:30:00.000000"  # midpoint of the event
    assert (fresh["title_prefix"], fresh["title_max_length"], fresh["video_channel"]) == (
        "DB2024 - ",
        91,
        "desertbus",
    )
    assert fresh["upload_locations"] == ["local", "youtube"] and fresh["row_version"] == 1
    response = await post(client, seeded, "/thrimshim/ev1", edit_body())
    assert response.status == 201 and await response.json() == {"row_version": 2}
    with database.transaction() as conn:
        stored = events.get_event(conn, "ev1")
    assert stored.edit.video_title == "DB2024 - My video"
    assert stored.edit.video_description == (
        "About it\n\nThis video is part of the following playlists:\n- Best of [https://youtube.com/playlist?list=PL1]\n"
        "\nThumbnail Credit: Art by A\nFooter text"
    )
    assert (stored.state, stored.editor, stored.edit_time) == ("EDITED", "ed@example.org", NOW)
    loaded = await (await client.get("/thrimshim/ev1")).json()
    assert (loaded["video_title"], loaded["video_description"]) == ("My video", "About it")
    assert loaded["video_ranges"] == [
        ["2024-11-10T03:05:00.000000", "2024-11-10T03:10:00.500000"],
        ["2024-11-10T03:20:00.000000", "2024-11-10T03:25:00.000000"],
    ]
    assert loaded["video_transitions"] == [["fade", 1.5]]
    # The editor sends back everything it got (with its token in the body, as the original did).
    response = await client.post("/thrimshim/ev1", json={**loaded, "token": seeded.editor})
    assert response.status == 201, await response.text()
    with database.transaction() as conn:
        again = events.get_event(conn, "ev1")
    assert again.edit == stored.edit and again.row_version == 3


async def test_transitions_are_the_engines(client):
    listed = await (await client.get("/thrimshim/transitions")).json()
    assert listed == [{"name": t.name, "description": t.description} for t in TRANSITIONS.values()]
    defaults = await (await client.get("/thrimshim/defaults")).json()
    assert defaults == {
        "video_channel": "desertbus",
        "bustime_start": None,
        "title_prefix": "DB2024 - ",
        "title_max_length": 91,
        "upload_locations": ["local", "youtube"],
    }


@pytest.mark.parametrize("state", list(EventState))
@pytest.mark.parametrize("wanted", ["UNEDITED", "EDITED", "MODIFIED"])
async def test_post_state_gate(client, seeded, database, state, wanted):
    with database.transaction() as conn:
        put_in_state(conn, "g1", state)
        event = events.get_event(conn, "g1")
    body = edit_body(state=wanted, **sheet_json(event))
    response = await post(client, seeded, "/thrimshim/g1", body)
    editable = state in ("UNEDITED", "EDITED", "CLAIMED")
    allowed = state in ("DONE", "MODIFIED") if wanted == "MODIFIED" else editable
    assert response.status == (201 if allowed else 403), await response.text()
    with database.transaction() as conn:
        after = events.get_event(conn, "g1")
    assert after.state == (wanted if allowed else state)
    if allowed and wanted != "MODIFIED":
        assert (after.uploader, after.claimed_until) == (None, None)  # a claimed job is cancelled


@pytest.mark.parametrize("state", list(EventState))
@pytest.mark.parametrize("force", ["false", "true"])
async def test_reset(client, seeded, database, state, force):
    with database.transaction() as conn:
        put_in_state(conn, "r1", state)
    response = await post(client, seeded, "/thrimshim/reset/r1", force=force)
    allowed = force == "true" or state in ("UNEDITED", "EDITED", "CLAIMED")
    assert response.status == (200 if allowed else 404)
    with database.transaction() as conn:
        assert events.get_event(conn, "r1").state == ("UNEDITED" if allowed else state)


@pytest.mark.parametrize("state", list(EventState))
async def test_manual_link(client, seeded, database, state):
    with database.transaction() as conn:
        put_in_state(conn, "m1", state)
    link = {"link": "https://www.youtube.com/watch?v=abcdefghijk&t=5", "upload_location": "youtube-manual"}
    response = await post(client, seeded, "/thrimshim/manual-link/m1", link)
    assert response.status == (200 if state == "UNEDITED" else 403), await response.text()
    with database.transaction() as conn:
        event = events.get_event(conn, "m1")
    if state == "UNEDITED":
        assert (event.state, event.video_id, event.video_link, event.editor) == (
            "DONE",
            "abcdefghijk",
            link["link"],
            "ed@example.org",
        )


async def test_modify_published_keeps_the_cut(client, seeded, database):
    with database.transaction() as conn:
        put_in_state(conn, "d1", EventState.DONE)
        before = events.get_event(conn, "d1")
    body = edit_body(
        state="MODIFIED",
        video_title="Renamed",
        video_ranges=[["2024-11-10T05:00:00", "2024-11-10T05:01:00"]],
        video_transitions=[],
        **sheet_json(before),
    )
    response = await post(client, seeded, "/thrimshim/d1", body)
    assert response.status == 201, await response.text()
    with database.transaction() as conn:
        after = events.get_event(conn, "d1")
    assert (after.state, after.edit.video_title, after.last_modified) == ("MODIFIED", "DB2024 - Renamed", NOW)
    assert after.edit.video_ranges == before.edit.video_ranges and after.video_link == before.video_link


async def test_create_event(client, seeded, database):
    body = {"id": "new1", "sheet_name": "Wed", "event_start": "2024-11-12T00:00:00Z", "tags": ["a"]}
    response = await post(client, seeded, "/thrimshim/events", body)
    assert response.status == 201
    assert (await post(client, seeded, "/thrimshim/events", body)).status == 409
    row = await (await client.get("/thrimshim/new1")).json()
    assert (row["state"], row["sheet_name"], row["tags"]) == ("UNEDITED", "Wed", ["a"])


async def test_draft_with_open_ranges_then_submit(client, seeded, database):
    draft = edit_body(
        state="UNEDITED", video_ranges=[["2024-11-10T03:05:00", None]], video_transitions=[], video_title=None
    )
    assert (await post(client, seeded, "/thrimshim/ev1", draft)).status == 201
    submit = edit_body(video_ranges=[["2024-11-10T03:05:00", None]], video_transitions=[])
    response = await post(client, seeded, "/thrimshim/ev1", submit)
    assert response.status == 400 and "needs both a start and an end" in await response.text()
    with database.transaction() as conn:
        state = conn.execute(sa.text("SELECT state FROM events WHERE id = 'ev1'")).scalar()
    assert state == "UNEDITED"


async def test_listing_built_in_sql_equals_the_python_rendering(client, seeded, database):
    """Both engines build the listing JSON themselves; it must be exactly what event_json renders."""
    body = edit_body(
        thumbnail_mode="CUSTOM",
        thumbnail_image=b64(PNG),
        video_transitions=[None],
        video_description='Quotes " and \\ and unicode é',
        uploader_whitelist=["a"],
    )
    assert (await post(client, seeded, "/thrimshim/ev1", body)).status == 201
    with database.transaction() as conn:
        put_in_state(conn, "done", EventState.DONE)
        events.insert_event(conn, SheetEvent(id="bare", sheet_name="s"))
        expected = [event_json(e) for e in events.list_events(conn)]
    listed = await (await client.get("/thrimshim")).json()
    for got, want in zip(listed, expected, strict=True):
        assert {k: v for k, v in got.items() if v != want.get(k)} == {}, want
    assert listed == expected
    assert expected[0]["public"] is True and expected[0]["video_transitions"] == [None]
