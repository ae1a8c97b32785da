"""A fast lane in front of an aiohttp server for one hot kind of request, answered without aiohttp.

aiohttp spends 250 to 300 µs of Python on each request (request and response objects, middlewares,
signals, its writer), which for a replicating peer or a player fetching segments costs more than
the kernel's work of sending the file. A connection therefore starts in the lane: each complete
request head is offered to the app's `Lane`, which either answers it at once or declines it. A lane
answers only requests it can answer exactly as the app would; the first one it declines, and all
that follow on that connection, go to aiohttp: the connection is handed to a new aiohttp handler
together with the bytes not yet consumed, so aiohttp parses that request from its first byte and
every error, odd header or unusual method gets the app's own answer.

Holds no domain logic: the lane decides what it answers; this module frames request heads, keeps
the idle timeout, hands connections over and closes its own connections when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

HEAD_END = b"\r\n\r\n"
# A head longer than this is never the lane's: aiohttp gets it (and applies its own limits).
MAX_HEAD_BYTES = 4096
# After cutting the answers still being sent at shutdown, how long their connections get to close.
CUT_GRACE = 1.0


class Lane(Protocol):
    """What an app offers its fast lane (set as `app[LANE]`)."""

    def answer(self, head: bytes, transport: asyncio.Transport) -> bool | Awaitable[None]:
        """Answer the request whose head (request line and headers, ending in a blank line) is
        `head`, or decline it (False) without writing anything. True: answered. An awaitable:
        the answer is being sent; the connection reads nothing more until it is done. A lane that
        answers must leave the connection ready for the next request or close it."""


LANE = web.AppKey("fast_lane", Lane)


class LaneConnection(asyncio.Protocol):
    """One client connection while it is in the lane."""

    def __init__(self, door: FastLane) -> None:
        self.door = door
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.sending: asyncio.Future[None] | None = None
        self.last_active = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.door.connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._touch()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.sending is not None:
            self.sending.cancel()  # a send waiting for writability on a closed socket never ends
        self.door.connections.discard(self)
        self.door.changed()
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer = self.buffer + data if self.buffer else data
        if self.sending is None:
            self._serve_buffered()

    def eof_received(self) -> bool | None:
        return None  # close: a client that stopped sending has no request we could still answer

    def _serve_buffered(self) -> None:
        transport = self.transport
        while transport is not None and not transport.is_closing():
            end = self.buffer.find(HEAD_END, 0, MAX_HEAD_BYTES)
            if end < 0:
                if len(self.buffer) >= MAX_HEAD_BYTES:
                    self._hand_over()
                return
            if self.door.stopping:
                self._hand_over()
                return
            end += len(HEAD_END)
            answered = self.door.lane.answer(self.buffer[:end], transport)
            if answered is False:
                self._hand_over()
                return
            self.buffer = self.buffer[end:]
            self._touch()
            if answered is not True:
                self.sending = asyncio.ensure_future(answered)
                self.sending.add_done_callback(self._sent)
                return

    def _sent(self, future: asyncio.Future[None]) -> None:
        self.sending = None
        self._touch()
        if future.cancelled() or future.exception() is not None:
            # A response cut short leaves the connection unusable.
            reason = "cancelled" if future.cancelled() else repr(future.exception())
            logger.debug("fast lane answer not completed: %s", reason)
            if self.transport is not None:
                self.transport.abort()
            return
        if self.door.stopping and not self.buffer and self.transport is not None:
            self.transport.close()
            return
        self._serve_buffered()
        self.door.changed()

    def cut(self) -> None:
        """Stop the answer being sent (its task cleans up) and drop the connection."""
        if self.sending is not None:
            self.sending.cancel()
        if self.transport is not None:
            self.transport.abort()

    def _touch(self) -> None:
        """Note activity; the idle timer (one per connection, re-armed lazily) checks it."""
        loop = asyncio.get_running_loop()
        self.last_active = loop.time()
        if self.idle_timer is None:
            self.idle_timer = loop.call_at(self.last_active + self.door.idle_timeout, self._check_idle)

    def _check_idle(self) -> None:
        self.idle_timer = None
        if self.transport is None:
            return
        loop = asyncio.get_running_loop()
        due = self.last_active + self.door.idle_timeout
        if self.sending is None and loop.time() >= due:
            self.transport.close()
            return
        self.idle_timer = loop.call_at(max(due, loop.time() + 1.0), self._check_idle)

    def _hand_over(self) -> None:
        """Give the connection, with every byte not yet consumed, to a new aiohttp handler."""
        transport = self.transport
        assert transport is not None
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None
        self.door.connections.discard(self)
        self.transport = None
        handler = self.door.app_protocol()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        buffered, self.buffer = self.buffer, b""
        if buffered:
            handler.data_received(buffered)
        self.door.changed()


class FastLane:
    """Protocol factory for new connections under the cap: each starts in the lane.

    `app_protocol` makes the aiohttp handler a declined connection is handed to. `idle_timeout` is
    the server's (see ConnectionLimits); `drain_timeout` bounds how long `shutdown` waits for
    answers being sent.
    """

    def __init__(
        self,
        lane: Lane,
        app_protocol: Callable[[], asyncio.Protocol],
        *,
        idle_timeout: float,
        drain_timeout: float,
    ) -> None:
        self.lane = lane
        self.app_protocol = app_protocol
        self.idle_timeout = idle_timeout
        self.drain_timeout = drain_timeout
        self.connections: set[LaneConnection] = set()
        self.stopping = False
        self._quiet = asyncio.Event()

    def __call__(self) -> LaneConnection:
        return LaneConnection(self)

    def changed(self) -> None:
        if self.stopping and not self.connections:
            self._quiet.set()

    async def shutdown(self, _app: web.Application | None = None) -> None:
        """Close idle connections now and the others once their answer is sent, cutting those
        still sending after the drain timeout (an aiohttp `on_shutdown` hook: it runs after the
        listening socket closed)."""
        self.stopping = True
        for connection in list(self.connections):
            if connection.sending is None and connection.transport is not None:
                connection.transport.close()
        self.changed()
        if not self.connections:
            return
        try:
            async with asyncio.timeout(self.drain_timeout):
                await self._quiet.wait()
        except TimeoutError:
            logger.warning("cutting %d answer(s) still being sent at shutdown", len(self.connections))
            for connection in list(self.connections):
                connection.cut()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CUT_GRACE):
                    await self._quiet.wait()
