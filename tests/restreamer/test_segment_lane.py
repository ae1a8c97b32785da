"""The segment fast lane: byte-identical answers to aiohttp's, hand-over, timeouts, shutdown, cap, metrics.

Each request is sent as raw bytes over a real socket to two servers of the same store: the app as
`wubloader restreamer` serves it (with the lane) and the app served by aiohttp alone. Everything but
the `Date` header must be identical, whether the lane answered or declined.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.conftest import STORE_START
from tests.harness.store_builder import write_segment
from wubloader.cli import build_parser
from wubloader.restreamer.app import RestreamerConfig, config_from_args, create_app
from wubloader.restreamer.segment_lane import SEGMENT_ROUTE
from wubloader.runtime.fast_lane import LANE
from wubloader.runtime.serve import RunningServer, start_app
from wubloader.store import SegmentType, create_tombstone

Response = tuple[bytes, list[bytes], bytes]


class CountingLane:
    """The app's lane, counting what it answered and declined."""

    def __init__(self, lane) -> None:
        self.lane = lane
        self.answered = 0
        self.declined = 0

    def answer(self, head, transport):
        result = self.lane.answer(head, transport)
        if result is False:
            self.declined += 1
        else:
            self.answered += 1
        return result


async def serve(
    base: Path, *, lane: bool = True, drain: float = 2.0, **limits
) -> tuple[RunningServer, CountingLane]:
    config = RestreamerConfig(base_dir=base, **limits)
    app = create_app(config)
    counting = CountingLane(app[LANE])
    if lane:
        app[LANE] = counting
    else:
        del app[LANE]
    server = await start_app(app, "127.0.0.1", 0, drain_timeout=drain, limits=config.connection_limits())
    return server, counting


async def connect(server: RunningServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def read_response(reader: asyncio.StreamReader, *, head_request: bool = False) -> Response:
    """Status line, header lines without `Date`, and the body (by Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status, *lines = head[:-4].split(b"\r\n")
    length = 0
    for line in lines:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    code = int(status.split()[1])
    has_body = not head_request and code != 304 and code >= 200
    body = await reader.readexactly(length) if has_body else b""
    return status, [line for line in lines if not line.lower().startswith(b"date:")], body


async def exchange(server: RunningServer, request: bytes) -> Response:
    reader, writer = await connect(server)
    try:
        writer.write(request)
        return await read_response(reader, head_request=request.startswith(b"HEAD "))
    finally:
        writer.close()


@pytest.fixture
def store(tmp_path: Path) -> dict[str, str]:
    """Segment paths by role, as raw request targets (':' escaped as clients do)."""
    base = tmp_path / "store"
    plain = write_segment(base, STORE_START, content=os.urandom(200_000))
    gone = write_segment(base, STORE_START + timedelta(seconds=2), content=b"tombstoned")
    create_tombstone(gone)
    temp = write_segment(base, STORE_START + timedelta(seconds=4), type=SegmentType.TEMP)
    empty = write_segment(base, STORE_START + timedelta(seconds=6), content=b"")

    def target(path: Path) -> str:
        return "/segments/" + "/".join(path.parts[-4:]).replace(":", "%3A")

    missing = target(plain).replace("00%3A00", "00%3A59")
    return {"base": str(base), "plain": target(plain), "gone": target(gone), "temp": target(temp),
            "empty": target(empty), "missing": missing}  # fmt: skip


def get(target: str, *headers: str, method: str = "GET", version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {target} {version}", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def requests_of(store: dict[str, str]) -> dict[str, tuple[bytes, bool]]:
    """Raw requests by name, and whether the lane answers them (else aiohttp does)."""
    plain = store["plain"]
    channel_etc, name = plain.rsplit("/", 1)
    return {
        "plain": (get(plain), True),
        "lower-case escape": (get(plain.replace("%3A", "%3a")), True),
        "unescaped colon": (get(plain.replace("%3A", ":")), True),
        "browser headers": (get(plain, "Connection: keep-alive", "User-Agent: x/1.0", "Accept:\t*/*"), True),
        "empty segment": (get(store["empty"]), True),
        "range": (get(plain, "Range: bytes=0-9"), False),
        "if-none-match": (get(plain, 'If-None-Match: "x"'), False),
        "if-modified-since": (get(plain, "if-modified-since: Mon, 01 Jan 2024 00:00:00 GMT"), False),
        "head": (get(plain, method="HEAD"), False),
        "post": (get(plain, "Content-Length: 0", method="POST"), False),
        "http/1.0": (get(plain, version="HTTP/1.0"), False),
        "connection close": (get(plain, "Connection: close"), False),
        "query": (get(plain + "?x=1"), False),
        "other escape": (get(plain.replace("chan", "ch%61n")), False),
        "tombstoned": (get(store["gone"]), False),
        "missing": (get(store["missing"]), False),
        "temp": (get(store["temp"]), False),
        "hidden": (get(f"{channel_etc}/.{name}"), False),
        "dot dot": (get(f"{channel_etc}/../{name}"), False),
        "overlong": (get(f"{channel_etc}/{'a' * 300}.ts"), False),
        "not a segment name": (get(f"{channel_etc}/nope.ts"), False),
        "body": (get(plain, "Content-Length: 3") + b"abc", False),
        "chunked": (get(plain, "Transfer-Encoding: chunked") + b"0\r\n\r\n", False),
        "folded header": (get(plain, "X-A: b", " c"), False),
        "space before colon": (get(plain, "X-A : b"), False),
        "huge head": (get(plain, "X-Big: " + "b" * 9000), False),
        "long head": (get(plain, *[f"X-{i}: {'b' * 900}" for i in range(5)]), False),
        "many headers": (get(plain, *[f"X-{i}: b" for i in range(200)]), False),
        "64 headers": (get(plain, *[f"X-{i}: b" for i in range(63)]), True),
    }


async def test_the_lane_answers_exactly_as_aiohttp_does(store):
    base = Path(store["base"])
    fast, counting = await serve(base)
    reference, _ = await serve(base, lane=False)
    codes = set()
    try:
        for name, (request, answered) in requests_of(store).items():
            before = counting.answered
            ours, theirs = await exchange(fast, request), await exchange(reference, request)
            assert ours == theirs, name
            assert counting.answered - before == answered, name
            codes.add(int(ours[0].split()[1]))
        assert {200, 206, 400, 403, 404, 405} <= codes
    finally:
        await fast.close()
        await reference.close()


async def test_keep_alive_pipelining_and_hand_over(store):
    """On one connection: lane answers (two pipelined in one write), then a Range request hands the
    connection to aiohttp, which answers the rest; every body arrives intact and in order."""
    base = Path(store["base"])
    fast, counting = await serve(base)
    reference, _ = await serve(base, lane=False)
    try:
        whole = await exchange(reference, get(store["plain"]))
        ranged = await exchange(reference, get(store["plain"], "Range: bytes=5-9"))
        reader, writer = await connect(fast)
        writer.write(get(store["plain"]))
        assert await read_response(reader) == whole
        writer.write(get(store["plain"]) + get(store["empty"]))
        assert await read_response(reader) == whole
        assert (await read_response(reader))[0] == b"HTTP/1.1 200 OK"
        assert counting.answered == 3 and len(fast.lane.connections) == 1
        writer.write(get(store["plain"], "Range: bytes=5-9") + get(store["plain"]))
        assert await read_response(reader) == ranged
        assert await read_response(reader) == whole
        assert counting.answered == 3 and not fast.lane.connections
        writer.close()
    finally:
        await fast.close()
        await reference.close()


async def test_a_head_arriving_byte_by_byte(store):
    fast, counting = await serve(Path(store["base"]))
    try:
        reader, writer = await connect(fast)
        for byte in get(store["plain"]):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.001)
        status, _, body = await read_response(reader)
        assert status == b"HTTP/1.1 200 OK" and len(body) == 200_000 and counting.answered == 1
        writer.close()
    finally:
        await fast.close()


async def test_idle_and_slow_connections_are_closed(store):
    fast, _ = await serve(Path(store["base"]), idle_timeout=0.5)
    try:
        idle_reader, idle_writer = await connect(fast)
        idle_writer.write(get(store["plain"]))
        await read_response(idle_reader)
        started = time.monotonic()
        slow_reader, slow_writer = await connect(fast)
        slow_writer.write(get(store["plain"])[:20])  # a head that never completes
        async with asyncio.timeout(10):
            assert await idle_reader.read() == b""
            assert await slow_reader.read() == b""
        assert time.monotonic() - started >= 0.5
        assert not fast.lane.connections
    finally:
        await fast.close()


async def test_shutdown_closes_idle_connections_and_cuts_a_stalled_answer(tmp_path):
    """An idle connection closes at once; an answer the client stopped reading is cut after the
    drain timeout, its file closed and its request counted as aborted."""
    base = tmp_path / "store"
    big = write_segment(base, STORE_START, content=os.urandom(64 * 1024 * 1024))
    target = "/segments/" + "/".join(big.parts[-4:])
    descriptors = len(os.listdir("/proc/self/fd"))
    aborted = served_count("aborted")
    fast, counting = await serve(base, drain=1.0)
    idle_reader, idle_writer = await connect(fast)
    stalled = socket.create_connection(("127.0.0.1", fast.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(get(target))  # and never read: the answer cannot finish
    async with asyncio.timeout(10):
        while not any(c.sending for c in fast.lane.connections):
            await asyncio.sleep(0.01)
    started = time.monotonic()
    await fast.close()
    assert 1.0 <= time.monotonic() - started < 5
    assert await idle_reader.read() == b"" and not fast.lane.connections
    assert counting.answered == 1 and served_count("aborted") == aborted + 1
    stalled.close()
    idle_writer.close()
    await asyncio.sleep(0.1)
    assert len(os.listdir("/proc/self/fd")) <= descriptors


@pytest.mark.parametrize("lane", [True, False], ids=["fast lane", "aiohttp"])
async def test_a_client_that_stops_reading_is_cut_off_and_its_file_closed(tmp_path, lane):
    """The send timeout aborts the socket under a stalled sendfile on either path: the connection
    and the segment file are closed (before, both waited for the client forever) and the answer is
    counted as aborted (aiohttp's path used to count 2xx: it sent after the handler returned)."""
    base = tmp_path / "store"
    big = write_segment(base, STORE_START, content=os.urandom(16 * 1024 * 1024))
    target = "/segments/" + "/".join(big.parts[-4:])
    descriptors = len(os.listdir("/proc/self/fd"))
    aborted = served_count("aborted")
    fast, _ = await serve(base, lane=lane, send_timeout=1.0)
    try:
        stalled = socket.create_connection(("127.0.0.1", fast.port))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(get(target))  # and never read
        started = time.monotonic()
        async with asyncio.timeout(30):
            while not fast.open_connections():
                await asyncio.sleep(0.01)
            while fast.open_connections():
                await asyncio.sleep(0.05)
        assert time.monotonic() - started >= 1.0
        assert served_count("aborted") == aborted + 1
        stalled.close()
        await asyncio.sleep(0.1)
        assert len(os.listdir("/proc/self/fd")) <= descriptors + 1  # + the listener
    finally:
        await fast.close()


@pytest.mark.parametrize("lane", [True, False], ids=["fast lane", "aiohttp"])
async def test_a_read_error_mid_answer_is_logged_and_the_connection_dropped(store, lane, monkeypatch, caplog):
    """A disk read error cannot be caused on demand here, so `os.sendfile` fails with EIO for the
    segment. The head is out: the connection is dropped, one warning names the file, no traceback."""
    fast, _ = await serve(Path(store["base"]), lane=lane)
    real_sendfile = os.sendfile

    def failing(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        if os.fstat(in_fd).st_size == 200_000:
            raise OSError(errno.EIO, "Input/output error")
        return real_sendfile(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", failing)
    aborted = served_count("aborted")
    try:
        with caplog.at_level(logging.WARNING):
            reader, writer = await connect(fast)
            writer.write(get(store["plain"]))
            async with asyncio.timeout(10):
                answer = await reader.read()
            writer.close()
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and len(answer) < 200_000
        assert served_count("aborted") == aborted + 1
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "not sent: [Errno 5]" in warnings[0].getMessage()
        assert warnings[0].exc_info is None
    finally:
        await fast.close()


async def test_lane_connections_count_against_the_cap(store):
    fast, _ = await serve(Path(store["base"]), max_connections=2)
    try:
        first, second = await connect(fast), await connect(fast)
        await asyncio.sleep(0.1)
        reader, writer = await connect(fast)
        assert (await reader.read()).startswith(b"HTTP/1.1 503")
        for _, w in (first, second, (reader, writer)):
            w.close()
    finally:
        await fast.close()


def served_count(outcome: str) -> float:
    labels = {"service": "restreamer", "route": SEGMENT_ROUTE, "method": "GET", "status_class": outcome}
    return REGISTRY.get_sample_value("wubloader_http_requests_total", labels) or 0.0


async def test_lane_answers_are_counted_in_the_request_metrics(store):
    fast, counting = await serve(Path(store["base"]))
    try:
        before = served_count("2xx"), served_count("4xx")
        for request in (get(store["plain"]), get(store["plain"]), get(store["gone"])):
            await exchange(fast, request)
        assert counting.answered == 2
        assert (served_count("2xx"), served_count("4xx")) == (before[0] + 2, before[1] + 1)
    finally:
        await fast.close()


@pytest.mark.parametrize("command", ["restreamer", "node"])
def test_the_lane_can_be_switched_off(tmp_path, monkeypatch, command):
    """`--no-fast-lane` (or WUBLOADER_FAST_LANE=0): every request goes through aiohttp."""

    def lane_of(*flags: str) -> bool:
        args = build_parser(command).parse_args([command, "--base-dir", str(tmp_path), *flags])
        return LANE in create_app(config_from_args(args))

    assert lane_of() and lane_of("--fast-lane")
    assert not lane_of("--no-fast-lane")
    monkeypatch.setenv("WUBLOADER_FAST_LANE", "0")
    assert not lane_of() and lane_of("--fast-lane")


@pytest.mark.parametrize("command", ["restreamer", "node"])
def test_the_send_timeout_reaches_the_server_limits(tmp_path, monkeypatch, command):
    def send_timeout(*flags: str) -> float:
        args = build_parser(command).parse_args([command, "--base-dir", str(tmp_path), *flags])
        return config_from_args(args).connection_limits().send_timeout

    assert send_timeout() == 60.0 and send_timeout("--send-timeout", "2m") == 120.0
    monkeypatch.setenv("WUBLOADER_SEND_TIMEOUT", "0")
    assert send_timeout() == 0.0


def test_no_lane_when_every_request_is_access_logged(tmp_path):
    """At log level DEBUG aiohttp access-logs requests; the lane would skip those lines."""
    access = logging.getLogger("aiohttp.access")
    level = access.level
    try:
        access.setLevel(logging.DEBUG)
        assert LANE not in create_app(RestreamerConfig(base_dir=tmp_path))
        access.setLevel(logging.WARNING)
        assert LANE in create_app(RestreamerConfig(base_dir=tmp_path))
    finally:
        access.setLevel(level)
