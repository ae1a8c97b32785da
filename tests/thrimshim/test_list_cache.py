"""GET /thrimshim over both engines: strong ETags, 304s, and a cached body that follows every row change."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.thrimshim.conftest import T0
from wubloader.db import events
from wubloader.db.event_records import SheetEvent
from wubloader.db.schema import events as events_table
from wubloader.thrimshim import list_cache


async def listing(client, etag=None, **params):
    headers = {"If-None-Match": etag} if etag else {}
    response = await client.get("/thrimshim", headers=headers, params=params)
    return response.status, response.headers.get("ETag"), await response.read()


async def test_an_unchanged_listing_is_304_and_any_change_shows(client, database):
    status, etag, body = await listing(client)
    assert status == 200 and etag.startswith('"') and b'"ev1"' in body
    assert await listing(client, etag) == (304, etag, b"")
    assert (await listing(client, f'"other", W/{etag}'))[0] == 304
    # A write that does not bump row_version (as the cutter's are) still changes the listing.
    with database.transaction() as conn:
        conn.execute(sa.update(events_table).where(events_table.c.id == "ev1").values(error="boom"))
    status, changed, body = await listing(client, etag)
    assert status == 200 and changed != etag and b'"boom"' in body
    with database.transaction() as conn:
        events.insert_event(conn, SheetEvent(id="ev2", sheet_name="s", event_start=T0 + timedelta(days=1)))
    status, inserted, body = await listing(client, changed)
    assert status == 200 and b'"ev2"' in body
    with database.transaction() as conn:
        conn.execute(sa.delete(events_table).where(events_table.c.id == "ev2"))
    status, deleted, body = await listing(client, inserted)
    assert status == 200 and b'"ev2"' not in body and deleted == changed  # the same rows: the same tag


async def test_filters_are_cached_apart(client, database):
    _, everything, _ = await listing(client)
    status, edited, body = await listing(client, state="EDITED")
    assert status == 200 and body == b"[]" and edited != everything
    assert (await listing(client, everything))[0] == 304
    assert (await listing(client, edited, state="EDITED"))[0] == 304


async def test_postgresql_serves_an_unchanged_listing_from_the_cache(client, database, monkeypatch):
    """Only where a fingerprint exists; SQLite builds the body every time (and still answers 304)."""
    built = []
    real = events.list_events_json
    monkeypatch.setattr(events, "list_events_json", lambda *a: built.append(1) or real(*a))
    first = await listing(client)
    assert await listing(client) == first
    with database.transaction() as conn:
        fingerprint = events.events_fingerprint(conn)
    assert len(built) == (1 if fingerprint is not None else 2)
    assert (fingerprint is None) == (database.engine.dialect.name == "sqlite")


def test_etag_matching():
    assert list_cache.etag_matches('"a"', '"a"') and list_cache.etag_matches('"a"', "*")
    assert list_cache.etag_matches('"a"', 'W/"a", "b"')
    assert not list_cache.etag_matches('"a"', None) and not list_cache.etag_matches('"a"', '"b"')
