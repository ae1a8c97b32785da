"""SegmentDownload against real sockets on 127.0.0.1: a raw HTTP/1.1 server whose every byte the test
controls (keep-alive it then breaks, bodies cut short or stalled, credentials), and whole passes
that must leave nothing behind when cancelled."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from tests.backfiller.peer_server import backfill_config as config
from tests.backfiller.peer_server import make_backfiller as backfiller
from tests.backfiller.snapshots import temp_files, visible
from tests.conftest import STORE_START
from tests.harness.store_builder import write_segment
from wubloader.backfiller.segment_download import (
    FLUSH_BYTES,
    Aborted,
    Origin,
    PeerConnections,
    SegmentDownload,
)
from wubloader.runtime.errors import FetchConnectionError, FetchHTTPError, FetchTimeout, FetchTooLarge


@dataclass
class Answer:
    """What the raw server sends for one request: `head` (status and headers), then `body`; after
    it, `stall` keeps the connection open and silent, `close` ends it (even if `head` said nothing)."""

    body: bytes = b""
    status: str = "200 OK"
    length: int | None = None  # Content-Length to announce (default: the body's)
    stall: bool = False
    close: bool = False
    raw: bytes | None = None  # the whole answer, head and framing included, instead of the above


@dataclass
class RawServer:
    """An HTTP/1.1 server on 127.0.0.1 answering each request with the next Answer."""

    answers: list[Answer]
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0
    server: asyncio.Server | None = None
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while self.answers:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                answer = self.answers.pop(0)
                length = len(answer.body) if answer.length is None else answer.length
                if answer.raw is None:
                    writer.write(f"HTTP/1.1 {answer.status}\r\nContent-Length: {length}\r\n\r\n".encode())
                    writer.write(answer.body)
                else:
                    writer.write(answer.raw)
                await writer.drain()
                if answer.stall:
                    await asyncio.sleep(3600)
                if answer.close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.handlers.discard(task)

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for handler in list(self.handlers):
            handler.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()


@pytest.fixture
async def raw_server():
    started: list[RawServer] = []

    async def start(*answers: Answer) -> tuple[RawServer, str]:
        server = RawServer(list(answers))
        url = await server.start()
        started.append(server)
        return server, url

    yield start
    for server in started:
        await server.close()


def download(
    connections: PeerConnections,
    url: str,
    *,
    stall: float = 30.0,
    max_bytes: int = 10_000_000,
) -> SegmentDownload:
    return SegmentDownload(
        connections,
        Origin.from_url(url),
        "segments/c/q/h/name.ts",
        network_seconds=60.0,
        stall_seconds=stall,
        max_bytes=max_bytes,
        throttle=None,
        loop=asyncio.get_running_loop(),
    )


async def fetch(task: SegmentDownload) -> bytes:
    """Run the download in a thread, collecting what it writes (copied: the buffer is reused)."""
    received: list[bytes] = []
    await asyncio.to_thread(task.run, lambda view: received.append(bytes(view)))
    return b"".join(received)


async def test_bodies_arrive_whole_over_one_kept_alive_connection(raw_server):
    bodies = [os.urandom(FLUSH_BYTES * 2 + 5), b"", os.urandom(1000)]
    server, url = await raw_server(*(Answer(body) for body in bodies))
    connections = PeerConnections()
    for body in bodies:
        assert await fetch(download(connections, url)) == body
    assert server.connections == 1 and len(server.requests) == 3
    assert server.requests[0].startswith(b"GET /segments/c/q/h/name.ts HTTP/1.1\r\n")
    connections.close()


async def test_an_idle_connection_the_peer_closed_is_replaced_once(raw_server):
    # the first answer says nothing of closing, then closes: the pooled connection is dead
    server, url = await raw_server(Answer(b"first", close=True), Answer(b"second"))
    connections = PeerConnections()
    assert await fetch(download(connections, url)) == b"first"
    await asyncio.sleep(0.1)  # the close reaches the client's socket
    assert await fetch(download(connections, url)) == b"second"
    assert server.connections == 2
    connections.close()


async def test_a_body_cut_short_is_a_connection_error(raw_server):
    _, url = await raw_server(Answer(b"x" * 500, length=1000, close=True))
    with pytest.raises(FetchConnectionError, match="closed 500 bytes before the body's end"):
        await fetch(download(PeerConnections(), url))


async def test_an_announced_length_over_the_cap_is_refused_before_the_body(raw_server):
    server, url = await raw_server(Answer(b"", length=50_000_000, stall=True))
    started = time.monotonic()
    with pytest.raises(FetchTooLarge):
        await fetch(download(PeerConnections(), url, max_bytes=1_000_000))
    assert time.monotonic() - started < 5 and server.connections == 1


async def test_error_statuses_are_http_errors_and_the_connection_is_not_reused(raw_server):
    server, url = await raw_server(Answer(b"gone", status="404 Not Found"), Answer(b"ok"))
    connections = PeerConnections()
    with pytest.raises(FetchHTTPError) as caught:
        await fetch(download(connections, url))
    assert caught.value.status == 404 and not caught.value.retryable
    assert await fetch(download(connections, url)) == b"ok"
    assert server.connections == 2
    connections.close()


async def test_a_stalled_body_times_out_on_lack_of_progress(raw_server):
    _, url = await raw_server(Answer(b"x" * 1000, length=100_000, stall=True))
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        await fetch(download(PeerConnections(), url, stall=0.3))
    assert 0.3 <= time.monotonic() - started < 5


async def test_abort_stops_a_stalled_download_at_once(raw_server):
    _, url = await raw_server(Answer(b"x" * 1000, length=100_000, stall=True))
    task = download(PeerConnections(), url)
    running = asyncio.ensure_future(fetch(task))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    task.abort()
    with pytest.raises(Aborted):
        await running
    assert time.monotonic() - started < 2  # not the 30 s progress deadline


async def test_credentials_in_the_peer_url_are_sent_and_never_shown(raw_server):
    server, url = await raw_server(Answer(b"ok"), Answer(b"", status="503 Service Unavailable"))
    url = url.replace("http://", "http://editor:p%40ss@")
    connections = PeerConnections()
    assert await fetch(download(connections, url)) == b"ok"
    expected = base64.b64encode(b"editor:p@ss").decode()
    assert f"Authorization: Basic {expected}\r\n".encode() in server.requests[0]
    with pytest.raises(FetchHTTPError) as caught:
        await fetch(download(connections, url))
    assert "p%40ss" not in str(caught.value) and "p@ss" not in caught.value.url
    connections.close()


async def test_a_failing_local_write_is_raised_as_itself_not_blamed_on_the_peer(raw_server):
    _, url = await raw_server(Answer(b"x" * 10))

    def full_disk(view: memoryview) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left") as caught:
        await asyncio.to_thread(download(PeerConnections(), url).run, full_disk)
    assert not isinstance(caught.value, FetchConnectionError)


async def test_cancelling_a_pass_mid_transfer_returns_promptly_and_leaves_no_temp_file(
    tmp_path, session, peers
):
    remote, local = tmp_path / "remote", tmp_path / "local"
    path = write_segment(remote, STORE_START, content=os.urandom(300_000))
    server = await peers(remote)
    arrived, release = asyncio.Event(), asyncio.Event()

    async def stall_after_some(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 300_000
        await response.prepare(request)
        await response.write(path.read_bytes()[:100_000])
        arrived.set()
        await release.wait()  # silent until the test ends (the peer's shutdown waits for it)
        return response

    server.bodies[path.name] = stall_after_some
    cfg = config(local, read_timeout=3600.0, segment_timeout=3600.0)
    running = asyncio.ensure_future(backfiller(cfg, session, server).run_once())
    await asyncio.wait_for(arrived.wait(), 30)
    await asyncio.sleep(0.2)  # the first bytes reach the temp file's buffer
    started = time.monotonic()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert time.monotonic() - started < 5
    assert temp_files(local) == [] and visible(local) == {}
    release.set()


async def test_abort_stops_a_download_waiting_for_the_rate_limit(raw_server):
    _, url = await raw_server(Answer(b"x" * 1000))
    waiting = asyncio.Event()

    async def slow_bucket(size: int) -> None:
        waiting.set()
        await asyncio.sleep(3600)

    task = SegmentDownload(
        PeerConnections(),
        Origin.from_url(url),
        "segments/c/q/h/name.ts",
        network_seconds=60.0,
        stall_seconds=30.0,
        max_bytes=10_000,
        throttle=slow_bucket,
        loop=asyncio.get_running_loop(),
    )
    running = asyncio.ensure_future(fetch(task))
    await asyncio.wait_for(waiting.wait(), 30)
    task.abort()
    with pytest.raises(Aborted):
        await asyncio.wait_for(running, 5)


async def test_chunked_and_close_delimited_bodies_arrive_whole(raw_server):
    big = os.urandom(FLUSH_BYTES + 3)
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(big):x}\r\n".encode()
        + big
        + b"\r\n3;x=y\r\nend\r\n0\r\n\r\n"
    )
    server, url = await raw_server(
        Answer(raw=chunked), Answer(raw=b"HTTP/1.1 200 OK\r\n\r\n" + big, close=True), Answer(b"last")
    )
    connections = PeerConnections()
    assert await fetch(download(connections, url)) == big + b"end"
    assert await fetch(download(connections, url)) == big  # ends when the peer closes: not reused
    assert await fetch(download(connections, url)) == b"last"
    assert server.connections == 2
    connections.close()


async def test_a_garbled_answer_is_a_connection_error(raw_server):
    _, url = await raw_server(Answer(raw=b"SSH-2.0-OpenSSH_9.2\r\n\r\n", close=True))
    with pytest.raises(FetchConnectionError, match=r"not an HTTP/1\.x status line"):
        await fetch(download(PeerConnections(), url))
