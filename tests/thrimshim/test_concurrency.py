"""Two editors on one row: exactly one conflicting write wins, the other gets 409 naming the fields."""

from __future__ import annotations

import asyncio

from tests.thrimshim.conftest import NOW, bearer, edit_body
from wubloader.db import events, roles, tokens


def second_editor(database) -> str:
    with database.transaction() as conn:
        roles.put_role(conn, roles.RoleRow(email="ann@example.org", name="Ann", editor=True))
        return tokens.add_token(conn, "ann@example.org", now=NOW)[0]


async def test_stale_post_gets_409_naming_the_changed_fields(client, seeded, database):
    ann = second_editor(database)
    loaded = await (await client.get("/thrimshim/ev1")).json()
    first = await client.post(
        "/thrimshim/ev1",
        headers=bearer(seeded.editor),
        json={**loaded, **edit_body(video_title="Ed's title"), "row_version": loaded["row_version"]},
    )
    assert first.status == 201
    stale = {
        **loaded,
        **edit_body(video_title="Ann's title", video_tags=["x", "y"]),
        "row_version": loaded["row_version"],
    }
    second = await client.post("/thrimshim/ev1", headers=bearer(ann), json=stale)
    text = await second.text()
    assert second.status == 409 and text.count("\n") == 1
    assert "changed fields: video_title" in text and "override_changes" in text
    with database.transaction() as conn:
        assert events.get_event(conn, "ev1").edit.video_title == "DB2024 - Ed's title"
    # Ann reviews and overrides: her write lands, on top of the current version.
    forced = await client.post(
        "/thrimshim/ev1", headers=bearer(ann), json={**stale, "override_changes": True}
    )
    assert forced.status == 201 and (await forced.json())["row_version"] == 3
    with database.transaction() as conn:
        event = events.get_event(conn, "ev1")
    assert (event.edit.video_title, event.editor) == ("DB2024 - Ann's title", "ann@example.org")


async def test_an_older_version_with_nothing_conflicting_is_accepted(client, seeded, database):
    loaded = await (await client.get("/thrimshim/ev1")).json()
    body = {**loaded, **edit_body(), "row_version": loaded["row_version"]}
    assert (await client.post("/thrimshim/ev1", headers=bearer(seeded.editor), json=body)).status == 201
    # The same edit again from the old version overwrites nothing anyone else wrote.
    assert (await client.post("/thrimshim/ev1", headers=bearer(seeded.editor), json=body)).status == 201


async def test_simultaneous_conflicting_posts_one_wins(client, seeded, database):
    ann = second_editor(database)
    for round_number in range(3):
        loaded = await (await client.get("/thrimshim/ev1")).json()
        bodies = [(seeded.editor, f"Ed {round_number}"), (ann, f"Ann {round_number}")]
        responses = await asyncio.gather(
            *[
                client.post(
                    "/thrimshim/ev1",
                    headers=bearer(token),
                    json={**loaded, **edit_body(video_title=title), "row_version": loaded["row_version"]},
                )
                for token, title in bodies
            ]
        )
        statuses = sorted(r.status for r in responses)
        assert statuses == [201, 409], [await r.text() for r in responses]
        winner = bodies[[r.status for r in responses].index(201)][1]
        with database.transaction() as conn:
            event = events.get_event(conn, "ev1")
        assert event.edit.video_title == "DB2024 - " + winner
        assert event.row_version == loaded["row_version"] + 1
