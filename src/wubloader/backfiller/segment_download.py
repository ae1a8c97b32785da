"""Downloading one segment body inside a worker thread: blocking HTTP/1.1 over reused connections.

Why a thread and not the event loop: at disk speed the loop's work per chunk (aiohttp's parser and
stream reader, then a hand-over to a writer thread every megabyte) cost more CPU than the copy's own
system calls. A thread that receives, hashes and writes in place needs none of it, and with the GIL
released in `recv`, `sha256` and `writev` the downloads of one peer run side by side.

The thread keeps the transfer's deadlines itself (each wait for data gets a socket timeout of the
time left), waits on the shared rate limit through the event loop, and stops promptly when
`abort()` shuts its socket down from the loop's thread.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from wubloader.runtime.errors import (
    FetchConnectionError,
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    FetchTooLarge,
)
from wubloader.runtime.http_client import DEFAULT_USER_AGENT, RecordedRequest, describe_error, redact_url

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

# Bytes gathered (in one buffer per download thread) before one write and hash update of the temp file.
FLUSH_BYTES = 1024 * 1024
# A transfer makes progress when this many new bytes arrive: a peer dripping a byte at a time keeps
# a socket alive forever without ever delivering a segment.
PROGRESS_BYTES = 64 * 1024
# Idle keep-alive connections kept per peer between downloads.
IDLE_PER_ORIGIN = 16
# A reused connection the peer closed meanwhile fails like this before any answer: ask again once.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class _WriteFailed(Exception):
    """A local write failed mid-download: re-raised as its OSError, never blamed on the peer."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class Aborted(Exception):
    """The download was stopped by `SegmentDownload.abort()` (its task was cancelled)."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a peer's requests go, parsed once from its URL."""

    scheme: str
    host: str
    port: int
    prefix: str  # the URL's path before `/segments/…`, without a trailing slash
    authorization: str | None

    @classmethod
    def from_url(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"cannot fetch {redact_url(url)}: not a valid http(s) URL", redact_url(url))
        authorization = None
        if parts.username is not None:
            secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            authorization = "Basic " + base64.b64encode(secret).decode("ascii")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"), authorization)


_buffers = threading.local()


def _thread_buffer() -> memoryview:
    """This thread's receive buffer, allocated once (a fresh megabyte per read cost a page fault per
    4 KiB received: more CPU than the copy itself)."""
    buffer: memoryview | None = getattr(_buffers, "buffer", None)
    if buffer is None:
        buffer = _buffers.buffer = memoryview(bytearray(FLUSH_BYTES))
    return buffer


def _reader(response: http.client.HTTPResponse) -> Callable[[memoryview], int]:
    """`read(view)`: receive into `view` with at most one `recv`; 0 at the end of the body.

    A body with a Content-Length is read straight from the connection's buffered reader into the
    view; a chunked or close-delimited one (rare for files) goes through http.client's `read1`.
    Raises IncompleteRead if the peer closes before the body's end.
    """
    remaining = response.length
    if response.chunked or remaining is None:

        def read_decoded(view: memoryview) -> int:
            chunk = response.read1(len(view))
            view[: len(chunk)] = chunk
            return len(chunk)

        return read_decoded
    stream = response.fp

    def read_exact(view: memoryview) -> int:
        nonlocal remaining
        if not remaining:
            return 0
        size = stream.readinto1(view[:remaining])
        if not size:
            raise http.client.IncompleteRead(b"", remaining)
        remaining -= size
        return size

    return read_exact


class PeerConnections:
    """Idle keep-alive connections per origin, shared by the download threads of one pass."""

    def __init__(self, *, user_agent: str = DEFAULT_USER_AGENT) -> None:
        self.user_agent = user_agent
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def take(self, origin: Origin, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to `origin` (and True), or a new unconnected one (and False)."""
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
            if origin.scheme == "https" and self._tls is None:
                self._tls = ssl.create_default_context()
        if origin.scheme == "https":
            return http.client.HTTPSConnection(
                origin.host, origin.port, timeout=timeout, context=self._tls
            ), False
        return http.client.HTTPConnection(origin.host, origin.port, timeout=timeout), False

    def give_back(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < IDLE_PER_ORIGIN:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close every idle connection (at the end of a pass)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class SegmentDownload:
    """One GET of a segment body, run by `run()` in a worker thread; `abort()` may come from any thread.

    `network_seconds` bounds the whole transfer and `stall_seconds` each stretch without
    PROGRESS_BYTES new bytes; neither counts waits for the rate limit (`throttle`, a coroutine
    function run on `loop`) or local writes. Bodies over `max_bytes` are refused as they arrive.
    """

    def __init__(
        self,
        connections: PeerConnections,
        origin: Origin,
        path: str,
        *,
        network_seconds: float,
        stall_seconds: float,
        max_bytes: int,
        throttle: Callable[[int], Coroutine[Any, Any, None]] | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.connections = connections
        self.origin = origin
        self.path = f"{origin.prefix}/{path}"
        self.shown = f"{origin.scheme}://{origin.host}:{origin.port}{self.path}"
        self.stall_seconds = stall_seconds
        self.max_bytes = max_bytes
        self.throttle = throttle
        self.loop = loop
        self._total_end = self._stall_end = 0.0
        self._network_seconds = network_seconds
        self._lock = threading.Lock()
        self._aborted = False
        self._socket: socket.socket | None = None
        self._waiting: concurrent.futures.Future[None] | None = None

    def abort(self) -> None:
        """Stop the transfer: its blocking read returns at once and `run()` raises Aborted."""
        with self._lock:
            self._aborted = True
            sock, waiting = self._socket, self._waiting
        if waiting is not None:
            waiting.cancel()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the thread

    def run(self, write: Callable[[memoryview], None]) -> None:
        """Download the body into `write`, a buffer of up to FLUSH_BYTES at a time (reused afterwards:
        `write` must not keep it).

        Raises FetchError (FetchTooLarge, FetchTimeout, FetchHTTPError, FetchConnectionError),
        Aborted, or what `write` raises.
        """
        now = time.monotonic()
        self._total_end = now + self._network_seconds
        self._stall_end = now + self.stall_seconds
        with RecordedRequest("backfill_segment"):
            try:
                connection, response = self._open()
                try:
                    self._receive(response, write)
                except BaseException:
                    connection.close()
                    raise
            except _WriteFailed as failed:
                raise failed.error from None
            except (http.client.HTTPException, OSError) as exc:  # TimeoutError is an OSError
                if self._aborted:
                    raise Aborted from None
                if isinstance(exc, TimeoutError):
                    raise FetchTimeout(f"{self.shown}: no progress in time", self.shown) from None
                message = f"cannot fetch {self.shown}: {describe_error(exc)}"
                raise FetchConnectionError(message, self.shown) from exc
        self._release(connection, response)

    def _open(self) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send the request and read the answer's head, on an idle connection if there is one."""
        headers = {"User-Agent": self.connections.user_agent}
        if self.origin.authorization:
            headers["Authorization"] = self.origin.authorization
        while True:
            connection, reused = self.connections.take(self.origin, self._time_left())
            try:
                if connection.sock is None:
                    connection.connect()
                self._attach(connection)
                connection.request("GET", self.path, headers=headers)
                response = connection.getresponse()
            except _STALE:
                connection.close()
                if reused and not self._aborted:
                    continue  # the peer closed an idle connection: a fresh one, once per idle one
                raise
            except BaseException:
                connection.close()
                raise
            break
        if not 200 <= response.status < 300:
            connection.close()
            raise FetchHTTPError(f"HTTP {response.status} from {self.shown}", self.shown, response.status)
        if response.length is not None and response.length > self.max_bytes:
            connection.close()
            raise FetchTooLarge(f"{self.shown} is over {self.max_bytes} bytes", self.shown)
        return connection, response

    def _attach(self, connection: http.client.HTTPConnection) -> None:
        """Make the connection's socket abortable and bounded by the deadlines from now on."""
        sock = connection.sock
        with self._lock:
            if self._aborted:
                raise Aborted
            self._socket = sock
        sock.settimeout(self._time_left())

    def _receive(self, response: http.client.HTTPResponse, write: Callable[[memoryview], None]) -> None:
        """Fill the thread's buffer from the socket and hand it to `write` whenever it is full, then
        once more with what is left: no allocation per read, one `write` per FLUSH_BYTES."""
        sock = self._socket
        assert sock is not None
        buffer = _thread_buffer()
        read = _reader(response)
        filled = received = fresh = 0
        while True:
            sock.settimeout(self._time_left())
            size = read(buffer[filled:])
            if not size:
                break
            received += size
            if received > self.max_bytes:
                raise FetchTooLarge(f"{self.shown} is over {self.max_bytes} bytes", self.shown)
            fresh += size
            if fresh >= PROGRESS_BYTES:
                fresh = 0
                self._stall_end = time.monotonic() + self.stall_seconds
            filled += size
            if self.throttle is not None:
                self._paused(self._wait_for_rate, size)
            if filled == len(buffer):
                self._write(write, buffer)
                filled = 0
        if self._aborted:
            raise Aborted
        self._write(write, buffer[:filled])

    def _write(self, write: Callable[[memoryview], None], data: memoryview) -> None:
        try:
            self._paused(write, data)
        except OSError as exc:
            raise _WriteFailed(exc) from exc

    def _release(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        with self._lock:
            self._socket = None
        if response.will_close:
            connection.close()
            return
        response.close()  # the body was read to its end: the connection takes the next request
        self.connections.give_back(self.origin, connection)

    def _time_left(self) -> float:
        left = min(self._total_end, self._stall_end) - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def _paused(self, func: Callable[[Any], object], arg: object) -> None:
        """Run `func(arg)` with both deadlines stopped: the peer is not the one being waited on."""
        started = time.monotonic()
        try:
            func(arg)
        finally:
            waited = time.monotonic() - started
            self._total_end += waited
            self._stall_end += waited

    def _wait_for_rate(self, size: int) -> None:
        assert self.throttle is not None
        waiting = asyncio.run_coroutine_threadsafe(self.throttle(size), self.loop)
        with self._lock:
            self._waiting = waiting
            if self._aborted:
                waiting.cancel()
        try:
            waiting.result()
        except concurrent.futures.CancelledError:
            raise Aborted from None
        finally:
            with self._lock:
                self._waiting = None
