"""`/segments/…`: bytes, ranges, conditional requests, tombstones and path safety."""

from __future__ import annotations

import os
from urllib.parse import quote

from tests.conftest import STORE_START
from tests.harness.store_builder import build_store, write_segment
from wubloader.store import create_tombstone


def url_of(path) -> str:
    parts = path.parts[-4:]
    return "/segments/" + "/".join(quote(p, safe="") for p in parts)


async def test_bytes_headers_and_head(tmp_path, make_client):
    data = os.urandom(300_000)
    path = write_segment(tmp_path, STORE_START, content=data)
    client = await make_client(tmp_path)
    response = await client.get(url_of(path))
    assert response.status == 200
    assert response.content_type == "video/mp2t"
    assert await response.read() == data
    digest = path.name[:-3].split("-", 3)[-1]
    assert response.headers["ETag"] == f'"{digest}"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Last-Modified" in response.headers
    head = await client.head(url_of(path))
    assert head.status == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert await head.read() == b""
    # The unquoted colon works too.
    assert await (await client.get("/segments/" + "/".join(path.parts[-4:]))).read() == data


async def test_ranges(tmp_path, make_client):
    data = bytes(range(256)) * 40
    path = write_segment(tmp_path, STORE_START, content=data)
    client = await make_client(tmp_path)
    cases = {
        "bytes=0-9": (206, data[0:10], "bytes 0-9/10240"),
        "bytes=10240-": (416, None, "bytes */10240"),
        "bytes=100-": (206, data[100:], "bytes 100-10239/10240"),
        "bytes=-16": (206, data[-16:], "bytes 10224-10239/10240"),
        "bytes=5000-999999": (206, data[5000:], "bytes 5000-10239/10240"),
        "bytes=9-3": (200, data, None),  # invalid → ignored
        "bytes=0-1,5-6": (200, data, None),  # multi-range → whole file
        "items=0-1": (200, data, None),
    }
    for header, (status, body, content_range) in cases.items():
        response = await client.get(url_of(path), headers={"Range": header})
        assert response.status == status, header
        assert response.headers.get("Content-Range") == content_range, header
        if body is not None:
            assert await response.read() == body, header


async def test_conditional_requests(tmp_path, make_client):
    path = write_segment(tmp_path, STORE_START, content=b"abcdef")
    client = await make_client(tmp_path)
    first = await client.get(url_of(path))
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert (await client.get(url_of(path), headers={"If-None-Match": etag})).status == 304
    assert (await client.get(url_of(path), headers={"If-None-Match": '"other"'})).status == 200
    assert (await client.get(url_of(path), headers={"If-Modified-Since": modified})).status == 304
    stale = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert (await client.get(url_of(path), headers={"If-Modified-Since": stale})).status == 200
    ranged = await client.get(url_of(path), headers={"Range": "bytes=1-2", "If-Range": etag})
    assert ranged.status == 206 and await ranged.read() == b"bc"
    ranged = await client.get(url_of(path), headers={"Range": "bytes=1-2", "If-Range": '"old"'})
    assert ranged.status == 200 and await ranged.read() == b"abcdef"


async def test_tombstoned_segment_is_404(tmp_path, make_client):
    paths = build_store(tmp_path, STORE_START, 2)
    client = await make_client(tmp_path)
    assert (await client.get(url_of(paths[0]))).status == 200
    create_tombstone(paths[0])
    response = await client.get(url_of(paths[0]))
    assert response.status == 404
    assert await response.text() == "segment is tombstoned\n"
    assert (await client.get(url_of(paths[1]))).status == 200


async def test_temp_and_missing_are_404(tmp_path, make_client):
    from wubloader.store import SegmentType

    temp = write_segment(tmp_path, STORE_START, type=SegmentType.TEMP)
    client = await make_client(tmp_path)
    assert (await client.get(url_of(temp))).status == 404
    missing = temp.with_name(temp.name.replace("temp", "full"))
    assert (await client.get(url_of(missing))).status == 404


async def test_symlinks_out_of_the_store_are_refused(tmp_path, make_client):
    base = tmp_path / "store"
    outside = tmp_path / "outside"
    secret = write_segment(outside, STORE_START, content=b"secret")
    inside = write_segment(base, STORE_START, content=b"inside")
    # A segment name that is a symlink to a file outside.
    link = inside.with_name(secret.name)
    link.symlink_to(secret)
    # An hour directory that is a symlink to a directory outside.
    (base / "chan" / "source" / "2024-05-01T11").symlink_to(secret.parent, target_is_directory=True)
    # A whole channel symlinked to outside.
    (base / "evil").symlink_to(outside / "chan", target_is_directory=True)
    client = await make_client(base)
    assert await (await client.get(url_of(inside))).read() == b"inside"
    for url in [
        f"/segments/chan/source/2024-05-01T10/{quote(secret.name)}",
        f"/segments/chan/source/2024-05-01T11/{quote(secret.name)}",
        f"/segments/evil/source/2024-05-01T10/{quote(secret.name)}",
    ]:
        response = await client.get(url)
        assert response.status in (403, 404), url
        assert b"secret" not in await response.read()
