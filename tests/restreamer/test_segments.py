"""`/segments/…`: bytes, ranges, conditional requests, tombstones and path safety."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import socket
import tracemalloc
from datetime import timedelta
from email.utils import formatdate
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import STORE_START
from tests.harness.store_builder import build_store, write_segment
from tests.restreamer.conftest import ServedClient
from wubloader.restreamer.app import RestreamerConfig, create_app
from wubloader.restreamer.errors import Forbidden, NotFound
from wubloader.restreamer.segment_file import SegmentResolver, http_date
from wubloader.store import SegmentIndex, SegmentType, create_tombstone
from wubloader.store.errors import UnsafePath
from wubloader.store.segment_run import SegmentRun


def url_of(path) -> str:
    parts = path.parts[-4:]
    return "/segments/" + "/".join(quote(p, safe="") for p in parts)


async def test_bytes_headers_and_head(tmp_path, make_either_client):
    data = os.urandom(300_000)
    path = write_segment(tmp_path, STORE_START, content=data)
    client = await make_either_client(tmp_path)
    response = await client.get(url_of(path))
    assert response.status == 200
    assert response.content_type == "video/mp2t"
    assert await response.read() == data
    digest = path.name[:-3].split("-", 3)[-1]
    assert response.headers["ETag"] == f'"{digest}"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Last-Modified"] == formatdate(path.stat().st_mtime, usegmt=True)
    head = await client.head(url_of(path))
    assert head.status == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert await head.read() == b""
    # The unquoted colon works too.
    assert await (await client.get("/segments/" + "/".join(path.parts[-4:]))).read() == data


async def test_ranges(tmp_path, make_either_client):
    data = bytes(range(256)) * 40
    path = write_segment(tmp_path, STORE_START, content=data)
    client = await make_either_client(tmp_path)
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


async def test_conditional_requests(tmp_path, make_either_client):
    path = write_segment(tmp_path, STORE_START, content=b"abcdef")
    client = await make_either_client(tmp_path)
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


async def test_tombstoned_segment_is_404(tmp_path, make_either_client):
    paths = build_store(tmp_path, STORE_START, 2)
    client = await make_either_client(tmp_path)
    assert (await client.get(url_of(paths[0]))).status == 200
    create_tombstone(paths[0])
    response = await client.get(url_of(paths[0]))
    assert response.status == 404
    assert await response.text() == "segment is tombstoned\n"
    assert (await client.get(url_of(paths[1]))).status == 200


async def test_a_dangling_symlink_tombstone_counts(tmp_path, make_either_client):
    """The tombstone check does not follow symlinks: a tombstone that is a dangling link still hides."""
    paths = build_store(tmp_path, STORE_START, 1)
    client = await make_either_client(tmp_path)
    assert (await client.get(url_of(paths[0]))).status == 200
    tombstone = create_tombstone(paths[0])
    tombstone.unlink()
    tombstone.symlink_to(tmp_path / "nowhere")
    response = await client.get(url_of(paths[0]))
    assert response.status == 404 and await response.text() == "segment is tombstoned\n"
    tombstone.unlink()
    assert (await client.get(url_of(paths[0]))).status == 200


# Second boundaries where formatdate's microsecond rounding (half to even) decides the second,
# negative times, the first and last years datetime accepts, and years it refuses.
HTTP_DATE_CASES = [
    0.0, 1e-7, -1e-7, -0.5, -1.0, 59.9999994999, 59.9999995, 59.9999996, 86399.99999951,
    1700000000.5, 1700000000.9999994, 1700000000.9999995, -30610224000.0, -30610224001.0,
    -62135596800.0, 253402300799.9999994, 253402300799.9999996, 253402300800.0, 1e20, float("nan"),
]  # fmt: skip


def test_http_date_is_formatdate():
    rnd = random.Random(17)
    cases = HTTP_DATE_CASES + [rnd.uniform(-6.3e10, 2.6e11) for _ in range(20_000)]
    cases += [rnd.randrange(-(2**35), 2**33) + rnd.choice([0.9999995, 0.4999995, 5e-7]) for _ in range(5_000)]
    for seconds in cases:
        try:
            expected: object = formatdate(seconds, usegmt=True)
        except (ValueError, OverflowError) as exc:
            expected = type(exc)
        try:
            got: object = http_date(seconds)
        except (ValueError, OverflowError) as exc:
            got = type(exc)
        assert got == expected, seconds


async def test_temp_and_missing_are_404(tmp_path, make_either_client):
    temp = write_segment(tmp_path, STORE_START, type=SegmentType.TEMP)
    client = await make_either_client(tmp_path)
    assert (await client.get(url_of(temp))).status == 404
    missing = temp.with_name(temp.name.replace("temp", "full"))
    assert (await client.get(url_of(missing))).status == 404


async def test_symlinks_out_of_the_store_are_refused(tmp_path, make_either_client):
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
    client = await make_either_client(base)
    assert await (await client.get(url_of(inside))).read() == b"inside"
    for url in [
        f"/segments/chan/source/2024-05-01T10/{quote(secret.name)}",
        f"/segments/chan/source/2024-05-01T11/{quote(secret.name)}",
        f"/segments/evil/source/2024-05-01T10/{quote(secret.name)}",
    ]:
        response = await client.get(url)
        assert response.status in (403, 404), url
        assert b"secret" not in await response.read()


def server_transports(client) -> list:
    """The server ends of the client's open connections, whichever way the app is served."""
    if isinstance(client, ServedClient):
        lane = client.server.lane.connections
        handlers = client.server._runner.server.connections
        return [c.transport for c in lane] + [h.transport for h in handlers]
    return [h.transport for h in client.server.runner.server.connections]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_cached_path_still_checks_the_disk_every_time(tmp_path, make_either_client):
    """A name validated once is cached, but deletion and symlink swaps take effect at once."""
    base = tmp_path / "store"
    path = write_segment(base, STORE_START, content=b"original")
    secret = tmp_path / "secret.ts"
    secret.write_bytes(b"secret")
    client = await make_either_client(base)
    assert await (await client.get(url_of(path))).read() == b"original"
    path.unlink()
    assert (await client.get(url_of(path))).status == 404
    path.symlink_to(secret)
    response = await client.get(url_of(path))
    assert response.status == 403 and b"secret" not in await response.read()
    path.unlink()
    path.write_bytes(b"rewritten")
    assert await (await client.get(url_of(path))).read() == b"rewritten"


def test_resolver_cache_estimate_matches_the_memory_really_held(tmp_path):
    paths = build_store(tmp_path, STORE_START, 400)
    keys = [tuple(str(part) for part in p.parts[-4:]) for p in paths]  # names as a request gives them
    resolver = SegmentResolver(os.path.realpath(tmp_path))
    resolver.resolve(*keys[0])  # the hour directory's real path, cached apart
    first = resolver.path_bytes
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for key in keys[1:]:
            resolver.resolve(*key)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0.8 * held <= resolver.path_bytes - first <= 1.3 * held


def test_resolver_cache_is_bounded_and_exact(tmp_path):
    paths = build_store(tmp_path, STORE_START, 5)
    keys = [tuple(p.parts[-4:]) for p in paths]
    one = SegmentResolver(os.path.realpath(tmp_path))
    one.resolve(*keys[0])
    resolver = SegmentResolver(os.path.realpath(tmp_path), max_path_bytes=2 * one.path_bytes + 10)
    for key, path in zip(keys, paths, strict=True):
        servable = resolver.resolve(*key)
        assert servable.path == str(path) and resolver.cached(key) == servable
        assert servable.etag == f'"{path.name[:-3].split("-", 3)[-1]}"'
        assert len(resolver._paths) <= 2 and resolver.path_bytes <= resolver.max_path_bytes
    # Only successful resolutions are cached, and only under exactly the components given.
    hidden = (*keys[0][:3], "." + keys[0][3])
    temp = write_segment(tmp_path, STORE_START, type=SegmentType.TEMP)
    for _ in range(2):
        with pytest.raises(UnsafePath):
            resolver.resolve(*hidden)
        with pytest.raises(NotFound):
            resolver.resolve(*temp.parts[-4:])
    assert resolver.cached(hidden) is None and resolver.cached(tuple(temp.parts[-4:])) is None


async def test_large_file_through_full_socket_buffers(tmp_path, make_either_client):
    """A file bigger than any socket buffer takes the writability-waiting path; bytes stay exact."""
    data = os.urandom(24 * 1024 * 1024 + 12345)
    path = write_segment(tmp_path, STORE_START, content=data)
    client = await make_either_client(tmp_path)
    response = await client.get(url_of(path))
    received = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        received += chunk
    assert bytes(received) == data
    # An odd range deep in the file, then a tiny one and a HEAD on the same keep-alive connection.
    ranged = await client.get(url_of(path), headers={"Range": "bytes=1000001-20000002"})
    assert ranged.status == 206 and await ranged.read() == data[1000001:20000003]
    small = await client.get(url_of(path), headers={"Range": "bytes=-3"})
    assert small.status == 206 and await small.read() == data[-3:]
    head = await client.head(url_of(path))
    assert head.headers["Content-Length"] == str(len(data)) and await head.read() == b""


async def test_no_descriptor_leaks(tmp_path, make_either_client):
    """Every outcome closes the segment file: 200, 206, 304, 416, HEAD, and clients leaving mid-body."""
    data = os.urandom(8 * 1024 * 1024)
    path = write_segment(tmp_path, STORE_START, content=data)
    client = await make_either_client(tmp_path)
    etag = (await client.head(url_of(path))).headers["ETag"]
    before = open_fds()
    for _ in range(5):
        assert len(await (await client.get(url_of(path))).read()) == len(data)
        assert (await client.get(url_of(path), headers={"Range": "bytes=5-9"})).status == 206
        assert (await client.get(url_of(path), headers={"If-None-Match": etag})).status == 304
        assert (await client.get(url_of(path), headers={"Range": f"bytes={len(data)}-"})).status == 416
        assert (await client.head(url_of(path))).status == 200
        response = await client.get(url_of(path))
        await response.content.readexactly(1000)
        response.close()  # drop the connection mid-body
    await client.get("/files")  # let the server notice the aborted connections
    deadline = asyncio.get_running_loop().time() + 60  # bounds a hang only
    while open_fds() > before and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert open_fds() <= before


async def test_socket_is_uncorked_after_each_response(tmp_path, make_either_client):
    """Headers and body go out corked; the cork never outlives the response (it would hold back
    the next small response on the keep-alive connection for up to 200 ms)."""
    data = os.urandom(3 * 1024 * 1024)
    path = write_segment(tmp_path, STORE_START, content=data)
    client = await make_either_client(tmp_path)
    for headers in ({}, {"Range": "bytes=7-70"}, {"Range": "bytes=99999999-"}):
        response = await client.get(url_of(path), headers=headers)
        await response.read()
        (transport,) = server_transports(client)
        sock = transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 0
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def test_serves_over_a_unix_socket(tmp_path):
    """Corking is TCP-only; over a Unix socket the same bytes still arrive (no cork, no error)."""
    data = os.urandom(2 * 1024 * 1024)
    path = write_segment(tmp_path / "store", STORE_START, content=data)
    app = create_app(RestreamerConfig(base_dir=tmp_path / "store"))
    runner = web.AppRunner(app)
    await runner.setup()
    socket_path = str(tmp_path / "restreamer.sock")
    await web.UnixSite(runner, socket_path).start()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=socket_path)) as session:
            async with session.get("http://restreamer" + url_of(path)) as response:
                assert response.status == 200 and await response.read() == data
            async with session.get(
                "http://restreamer" + url_of(path), headers={"Range": "bytes=-5"}
            ) as ranged:
                assert ranged.status == 206 and await ranged.read() == data[-5:]
    finally:
        await runner.cleanup()


def test_confining_pieces_checks_every_file_of_a_run(tmp_path):
    paths = build_store(tmp_path, STORE_START, 30)
    index = SegmentIndex(tmp_path, settle_seconds=0)
    pieces = index.best_pieces("chan", "source", STORE_START, STORE_START + timedelta(seconds=60))
    assert [type(p) for p in pieces] == [SegmentRun]
    resolver = SegmentResolver(os.path.realpath(tmp_path))
    resolver.confine(pieces, files=True)  # all regular files: nothing to refuse
    paths[17].unlink()
    os.symlink("/etc/hostname", paths[17])  # same name, now a symlink leading out
    resolver.confine(pieces, files=False)  # directories only
    with pytest.raises(Forbidden):
        resolver.confine(pieces, files=True)
    paths[17].unlink()
    with pytest.raises(NotFound):
        resolver.confine(pieces, files=True)
