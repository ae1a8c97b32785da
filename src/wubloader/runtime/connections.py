"""Bounding an HTTP server's connections: how many may be open, how long one may sit idle, and how
long a peer may leave what it was sent unread.

Without these, 500 slow or idle clients held their sockets forever and ~1,000 of them used up a
1024-descriptor limit, locking everyone out; a client that stopped reading an answer held its
connection (and the file being sent) for as long as its kernel kept acknowledging window probes.
Holds no domain logic; `serve.start_app` applies it.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.metrics import REFUSED_CONNECTIONS

if TYPE_CHECKING:
    from asyncio.trsock import TransportSocket
    from collections.abc import Callable

    from wubloader.runtime.fast_lane import FastLane

logger = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = 60.0
# As nginx's `send_timeout`: a minute without the peer taking a byte of an answer.
DEFAULT_SEND_TIMEOUT = 60.0
# Seconds a refused client is told to wait before trying again.
REFUSED_RETRY_AFTER = 5
REFUSAL_LOG_INTERVAL = 10.0
MIN_CONNECTIONS = 16
# TCP_USER_TIMEOUT is an unsigned int of milliseconds; a day is already far beyond any use.
MAX_SEND_TIMEOUT = 24 * 3600.0


def default_max_connections() -> int:
    """Half the process's file-descriptor limit: the rest stays for segment files, pipes and peers."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(MIN_CONNECTIONS, soft // 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionLimits:
    """`max_connections` open at once (None: `default_max_connections()`); beyond that a new
    connection is answered `503` + `Retry-After` and closed. `idle_timeout`: a connection that has
    not sent a complete request head within this many seconds of opening or of its last response
    is closed (this is both the header timeout and the keep-alive idle timeout). `send_timeout`:
    a connection whose peer acknowledges none of the bytes sent to it (it stopped reading, or
    vanished) for this many seconds is aborted by the kernel (TCP_USER_TIMEOUT; 0: never). With
    `cancel_abandoned`, a handler whose client disconnected is cancelled instead of running on.
    """

    max_connections: int | None = None
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    send_timeout: float = DEFAULT_SEND_TIMEOUT
    cancel_abandoned: bool = True

    def __post_init__(self) -> None:
        if self.max_connections is not None and self.max_connections < 1:
            raise RuntimeConfigError(f"max_connections must be ≥ 1, got {self.max_connections}")
        if not self.idle_timeout > 0:
            raise RuntimeConfigError(f"idle_timeout must be > 0, got {self.idle_timeout}")
        if not 0 <= self.send_timeout <= MAX_SEND_TIMEOUT:
            raise RuntimeConfigError(
                f"send_timeout must be 0 (off) to {MAX_SEND_TIMEOUT:g} s, got {self.send_timeout}"
            )

    def connection_cap(self) -> int:
        return self.max_connections if self.max_connections is not None else default_max_connections()


class _Refusal(asyncio.Protocol):
    """Answers one fixed 503 and closes: a connection over the cap costs no parsing and no handler."""

    RESPONSE = (
        b"HTTP/1.1 503 Service Unavailable\r\n"
        b"Content-Type: text/plain\r\n"
        b"Retry-After: " + str(REFUSED_RETRY_AFTER).encode() + b"\r\n"
        b"Content-Length: 21\r\n"
        b"Connection: close\r\n\r\n"
        b"too many connections\n"
    )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self.RESPONSE)
        transport.close()


class ConnectionCap:
    """Protocol factory: the aiohttp server's handler (or, with `lane`, a fast-lane connection that
    hands over to one) while under the cap, a `_Refusal` above it.

    Refusals are counted in a metric and logged at most once per REFUSAL_LOG_INTERVAL.
    """

    def __init__(
        self,
        server: web.Server,
        cap: int,
        service: str,
        *,
        lane: FastLane | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = server
        self.cap = cap
        self.service = service
        self.lane = lane
        self._clock = clock
        self._refused_since_log = 0
        self._last_log = -REFUSAL_LOG_INTERVAL

    def open_connections(self) -> int:
        return count_open(self.server, self.lane)

    def __call__(self) -> asyncio.BaseProtocol:
        if self.open_connections() < self.cap:
            return self.lane() if self.lane is not None else self.server()
        REFUSED_CONNECTIONS.labels(self.service).inc()
        self._refused_since_log += 1
        now = self._clock()
        if now - self._last_log >= REFUSAL_LOG_INTERVAL:
            logger.warning(
                "%s: %d connection(s) refused: %d open is the limit",
                self.service,
                self._refused_since_log,
                self.cap,
            )
            self._refused_since_log = 0
            self._last_log = now
        return _Refusal()


def count_open(server: web.Server | None, lane: FastLane | None) -> int:
    """Connections open now: aiohttp's and those the fast lane holds."""
    return (len(server.connections) if server else 0) + (len(lane.connections) if lane else 0)


class CappedSite(web.BaseSite):
    """A TCP site whose connections go through a ConnectionCap (aiohttp's TCPSite has no cap)."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        cap: int,
        service: str,
        send_timeout: float = 0.0,
        lane: FastLane | None = None,
    ) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._cap = cap
        self._service = service
        self._send_timeout = send_timeout
        self._lane = lane

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None  # BaseSite checked that setup() ran
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            ConnectionCap(server, self._cap, self._service, lane=self._lane),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
        )
        for listener in self._server.sockets:
            set_send_timeout(listener, self._send_timeout)


def set_send_timeout(listener: socket.socket | TransportSocket, seconds: float) -> None:
    """TCP_USER_TIMEOUT on a listening socket, which every connection it accepts inherits: the kernel
    then aborts a connection whose sent bytes stay unacknowledged, or unsendable into a zero window,
    for `seconds` (0: the kernel's default, retransmissions for ~15 minutes, window probes forever)."""
    if seconds > 0 and listener.family in (socket.AF_INET, socket.AF_INET6):
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, max(1, round(seconds * 1000)))
