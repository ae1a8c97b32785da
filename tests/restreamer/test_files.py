"""Listings `/files…`: JSON arrays compatible with the original, tombstones hidden or appended."""

from __future__ import annotations

from tests.conftest import STORE_START
from tests.harness.store_builder import build_store
from wubloader.store import create_tombstone

HOUR = "2024-05-01T10"


async def test_listings_are_json_arrays(tmp_path, make_client):
    paths = build_store(tmp_path, STORE_START, 5)
    build_store(tmp_path, STORE_START, 1, quality="480p")
    client = await make_client(tmp_path)
    expect = {
        "/files": ["chan"],
        "/files/chan": ["480p", "source"],
        "/files/chan/source": [HOUR],
        f"/files/chan/source/{HOUR}": sorted(p.name for p in paths),
        f"/files/chan/source/{HOUR}?tombstones=false": sorted(p.name for p in paths),
    }
    for url, names in expect.items():
        response = await client.get(url)
        assert response.status == 200, url
        assert response.content_type == "application/json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert await response.json() == names, url


async def test_missing_things_list_empty(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 1)
    client = await make_client(tmp_path)
    for url in ["/files/nochan", "/files/chan/noq", "/files/chan/source/2024-05-01T11", "/files/chan/noq/x"]:
        response = await client.get(url)
        assert response.status == 200, url
        assert await response.json() == []


async def test_tombstoned_segment_hidden_and_tombstone_listed(tmp_path, make_client):
    paths = build_store(tmp_path, STORE_START, 3)
    tombstone = create_tombstone(paths[1])
    client = await make_client(tmp_path)
    names = await (await client.get(f"/files/chan/source/{HOUR}")).json()
    assert names == [paths[0].name, paths[2].name]
    names = await (await client.get(f"/files/chan/source/{HOUR}?tombstones=true")).json()
    assert names == [paths[0].name, paths[2].name, tombstone.name]


async def test_hidden_entries_never_listed(tmp_path, make_client):
    paths = build_store(tmp_path, STORE_START, 2)
    (tmp_path / ".hidden").mkdir()
    (paths[0].parent / ".secret.ts").write_bytes(b"x")
    client = await make_client(tmp_path)
    assert await (await client.get("/files")).json() == ["chan"]
    assert await (await client.get(f"/files/chan/source/{HOUR}")).json() == [p.name for p in paths]


async def test_bad_tombstones_value_is_400(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 1)
    client = await make_client(tmp_path)
    for value in ["TRUE", "1", "", "yes"]:
        response = await client.get(f"/files/chan/source/{HOUR}", params={"tombstones": value})
        assert response.status == 400
        text = await response.text()
        assert text.startswith("bad tombstones") and text.count("\n") == 1


async def test_hour_listing_etag_answers_304_until_the_hour_changes(tmp_path, make_client):
    paths = build_store(tmp_path, STORE_START, 3)
    client = await make_client(tmp_path)
    url = f"/files/chan/source/{HOUR}?tombstones=true"
    first = await client.get(url)
    etag = first.headers["ETag"]
    unchanged = await client.get(url, headers={"If-None-Match": etag})
    assert unchanged.status == 304 and unchanged.headers["ETag"] == etag
    assert await unchanged.read() == b""
    create_tombstone(paths[0])
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert (await changed.json())[-1].endswith(".tombstone")
