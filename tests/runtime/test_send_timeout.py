"""The send timeout over real loopback TCP: a client that stops reading an answer is cut off, one
that reads slowly but steadily is not, and 0 switches the limit off. Every HTTP service gets it
through `start_app`."""

from __future__ import annotations

import asyncio
import os
import socket
import time

import pytest
from aiohttp import web

from wubloader.runtime.connections import ConnectionLimits
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.serve import RunningServer, start_app

BIG = os.urandom(16 * 1024 * 1024)  # far more than the kernel's send and receive buffers hold
SMALL = os.urandom(512 * 1024)


class Answers:
    """An app that streams BIG or SMALL in 64 KB writes and remembers how each answer ended."""

    def __init__(self) -> None:
        self.endings: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/big", self.big)
        self.app.router.add_get("/small", self.small)

    async def big(self, request: web.Request) -> web.StreamResponse:
        return await self.stream(request, BIG)

    async def small(self, request: web.Request) -> web.StreamResponse:
        return await self.stream(request, SMALL)

    async def stream(self, request: web.Request, body: bytes) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(len(body))})
        await response.prepare(request)
        try:
            for offset in range(0, len(body), 65536):
                await response.write(body[offset : offset + 65536])
        except (asyncio.CancelledError, ConnectionError) as exc:
            self.endings.append(type(exc).__name__)
            raise
        self.endings.append("sent")
        return response


async def serve(answers: Answers, send_timeout: float) -> RunningServer:
    limits = ConnectionLimits(send_timeout=send_timeout, cancel_abandoned=True)
    return await start_app(answers.app, "127.0.0.1", 0, drain_timeout=1.0, limits=limits)


def small_window_client(port: int, path: str) -> socket.socket:
    """A connection with a small receive buffer (set before connecting: it fixes the window) that
    has sent its request."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


def read_answer(sock: socket.socket, *, size: int | None = None, pause: float = 0.0) -> tuple[bytes, bool]:
    """What the server sends until it closes (or the body reaches `size`), pausing after each read,
    and whether it ended with a reset."""
    data = bytearray()
    while size is None or len(body_of(bytes(data))) < size:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(data), True
        if not chunk:
            break
        data += chunk
        time.sleep(pause)
    return bytes(data), False


def body_of(answer: bytes) -> bytes:
    return answer.partition(b"\r\n\r\n")[2]


async def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout() -> None:
    """Before, the connection and its handler waited for as long as the client's kernel answered
    window probes: forever."""
    answers = Answers()
    server = await serve(answers, send_timeout=1.0)
    try:
        stalled = small_window_client(server.port, "/big")
        started = time.monotonic()
        async with asyncio.timeout(30):
            while not answers.endings:
                await asyncio.sleep(0.05)
        assert time.monotonic() - started >= 1.0
        assert answers.endings[0] in ("CancelledError", "ConnectionResetError")
        answer, _ = await asyncio.to_thread(read_answer, stalled)
        assert len(body_of(answer)) < len(BIG) and BIG.startswith(body_of(answer))
        stalled.close()
    finally:
        await server.close()


async def test_a_slow_but_steady_reader_gets_the_whole_answer() -> None:
    """Pauses shorter than the timeout, each leaving the window shut for most of the pause: never
    cut, whatever the total time."""
    answers = Answers()
    server = await serve(answers, send_timeout=2.0)
    try:
        sock = small_window_client(server.port, "/small")
        started = time.monotonic()
        answer, reset = await asyncio.to_thread(read_answer, sock, size=len(SMALL), pause=0.3)
        sock.close()
        assert not reset and body_of(answer) == SMALL and answers.endings == ["sent"]
        assert time.monotonic() - started > 2.0  # slower in total than the timeout
    finally:
        await server.close()


async def test_zero_switches_the_send_timeout_off() -> None:
    answers = Answers()
    server = await serve(answers, send_timeout=0)
    try:
        stalled = small_window_client(server.port, "/big")
        await asyncio.sleep(2.5)
        assert not answers.endings  # still waiting for the client, as the kernel's default has it
        stalled.close()
    finally:
        await server.close()


@pytest.mark.parametrize("seconds", [-1.0, 86_401.0, float("nan")])
def test_a_send_timeout_out_of_range_is_a_config_error(seconds: float) -> None:
    with pytest.raises(RuntimeConfigError, match="send_timeout must be 0"):
        ConnectionLimits(send_timeout=seconds)
