"""Downloading one segment body inside a worker thread: blocking HTTP/1.1 over reused connections.

Why a thread and not the event loop: at disk speed the loop's work per chunk (aiohttp's parser and
stream reader, then a hand-over to a writer thread every megabyte) cost more CPU than the copy's own
system calls. A thread that receives, hashes and writes in place needs none of it, and with the GIL
released in `recv`, `sha256` and `write` the downloads of one peer run side by side.

The thread keeps the transfer's deadlines itself (no wait for data may outlast the time left),
waits on the shared rate limit through the event loop, and stops promptly when `abort()` shuts its
socket down from the loop's thread.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from wubloader.backfiller.http11 import MAX_HEAD, BadResponse, ChunkedDecoder, parse_head, request_bytes
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

    from wubloader.backfiller.http11 import ResponseHead

# Bytes gathered (in one buffer per download thread) before one write and hash update of the temp file.
FLUSH_BYTES = 1024 * 1024
# A transfer makes progress when this many new bytes arrive: a peer dripping a byte at a time keeps
# a socket alive forever without ever delivering a segment.
PROGRESS_BYTES = 64 * 1024
# Idle keep-alive connections kept per peer between downloads.
IDLE_PER_ORIGIN = 16


class _WriteFailed(Exception):
    """A local write failed mid-download: re-raised as its OSError, never blamed on the peer."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Closed(Exception):
    """The peer closed the connection before answering (on a reused one: it was stale)."""


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

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"


_buffers = threading.local()


def _thread_buffer() -> memoryview:
    """This thread's receive buffer, allocated once (a fresh megabyte per read cost a page fault per
    4 KiB received: more CPU than the copy itself)."""
    buffer: memoryview | None = getattr(_buffers, "buffer", None)
    if buffer is None:
        buffer = _buffers.buffer = memoryview(bytearray(FLUSH_BYTES))
    return buffer


class PeerConnections:
    """Idle keep-alive connections per origin, shared by the download threads of one pass."""

    def __init__(self) -> None:
        self._idle: dict[Origin, list[socket.socket]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def take(self, origin: Origin) -> socket.socket | None:
        with self._lock:
            idle = self._idle.get(origin)
            return idle.pop() if idle else None

    def give_back(self, origin: Origin, sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < IDLE_PER_ORIGIN:
                idle.append(sock)
                return
        sock.close()

    def tls(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls is None:
                self._tls = ssl.create_default_context()
            return self._tls

    def close(self) -> None:
        """Close every idle connection (at the end of a pass)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for sockets in idle.values():
            for sock in sockets:
                sock.close()


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
        self.shown = f"{origin.scheme}://{origin.host_header}{self.path}"
        self.stall_seconds = stall_seconds
        self.max_bytes = max_bytes
        self.throttle = throttle
        self.loop = loop
        self._network_seconds = network_seconds
        self._total_end = self._stall_end = 0.0
        self._fresh = 0
        self._lock = threading.Lock()
        self._aborted = False
        self._socket: socket.socket | None = None
        self._waiting: concurrent.futures.Future[None] | None = None

    def abort(self) -> None:
        """Stop the transfer: its blocking call returns at once and `run()` raises Aborted."""
        with self._lock:
            self._aborted = True
            sock, waiting = self._socket, self._waiting
        if waiting is not None:
            waiting.cancel()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected yet, or already closed by the thread

    def run(self, write: Callable[[memoryview], None]) -> None:
        """Download the body into `write`, a view of up to FLUSH_BYTES at a time (of a buffer reused
        afterwards: `write` must not keep it).

        Raises FetchError (FetchTooLarge, FetchTimeout, FetchHTTPError, FetchConnectionError),
        Aborted, or the OSError `write` raises.
        """
        now = time.monotonic()
        self._total_end = now + self._network_seconds
        self._stall_end = now + self.stall_seconds
        with RecordedRequest("backfill_segment"):
            try:
                sock, head, start, filled = self._request()
                try:
                    reusable = self._body(sock, head, start, filled, write)
                except BaseException:
                    sock.close()
                    raise
            except _WriteFailed as failed:
                raise failed.error from None
            except (BadResponse, _Closed, OSError) as exc:  # TimeoutError is an OSError
                if self._aborted:
                    raise Aborted from None
                if isinstance(exc, TimeoutError):
                    raise FetchTimeout(f"{self.shown}: no progress in time", self.shown) from None
                cause = str(exc) if isinstance(exc, BadResponse | _Closed) else describe_error(exc)
                message = f"cannot fetch {self.shown}: {cause}"
                raise FetchConnectionError(message, self.shown) from exc
        with self._lock:
            self._socket = None
        if reusable:
            self.connections.give_back(self.origin, sock)
        else:
            sock.close()

    def _request(self) -> tuple[socket.socket, ResponseHead, int, int]:
        """Send the GET and read the answer's head, on an idle connection if there is one.

        Returns the socket, the head, and where the body starts and the received bytes end in the
        thread's buffer. A 2xx answer only: anything else raises FetchHTTPError.
        """
        headers = {"User-Agent": DEFAULT_USER_AGENT}
        if self.origin.authorization:
            headers["Authorization"] = self.origin.authorization
        request = request_bytes(self.origin.host_header, self.path, headers)
        while True:
            sock = self.connections.take(self.origin)
            reused = sock is not None
            if sock is None:
                sock = self._connect()
            else:
                self._attach(sock)
            try:
                sock.settimeout(self._time_left())
                sock.sendall(request)
                head, start, filled = self._read_head(sock)
            except (_Closed, ConnectionResetError, BrokenPipeError):
                sock.close()
                if reused and not self._aborted:
                    continue  # the peer closed this idle connection: another, or a fresh one
                raise
            except BaseException:
                sock.close()
                raise
            break
        if not 200 <= head.status < 300:
            sock.close()
            raise FetchHTTPError(f"HTTP {head.status} from {self.shown}", self.shown, head.status)
        if head.length is not None and head.length > self.max_bytes:
            sock.close()
            raise self._too_large()
        return sock, head, start, filled

    def _connect(self) -> socket.socket:
        host, port = self.origin.host, self.origin.port
        error: OSError = OSError(f"no address for {host}")
        for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            sock = socket.socket(family, kind, proto)
            self._attach(sock)
            try:
                sock.settimeout(self._time_left())
                sock.connect(address)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.origin.scheme == "https":
                    sock = self.connections.tls().wrap_socket(sock, server_hostname=host)
                    self._attach(sock)
            except OSError as exc:
                sock.close()
                if self._aborted or isinstance(exc, TimeoutError):
                    raise
                error = exc
                continue
            return sock
        raise error

    def _attach(self, sock: socket.socket) -> None:
        """Make `sock` the one `abort()` shuts down."""
        with self._lock:
            if self._aborted:
                sock.close()
                raise Aborted
            self._socket = sock

    def _read_head(self, sock: socket.socket) -> tuple[ResponseHead, int, int]:
        buffer = _thread_buffer()
        raw = buffer.obj
        assert isinstance(raw, bytearray)
        filled = 0
        while True:
            size = self._recv(sock, buffer[filled:MAX_HEAD])
            if not size:
                raise _Closed("the peer closed the connection without answering")
            searched = max(0, filled - 3)
            filled += size
            end = raw.find(b"\r\n\r\n", searched, filled)
            if end >= 0:
                return parse_head(bytes(raw[:end])), end + 4, filled
            if filled >= MAX_HEAD:
                raise BadResponse(f"no end of the answer's head in {MAX_HEAD} bytes")

    def _body(
        self,
        sock: socket.socket,
        head: ResponseHead,
        start: int,
        filled: int,
        write: Callable[[memoryview], None],
    ) -> bool:
        """Receive the body after `start` (some already in the buffer, up to `filled`) into `write`;
        True if the connection can take another request."""
        if head.chunked:
            return self._chunked_body(sock, head.keep_alive, start, filled, write)
        buffer = _thread_buffer()
        remaining = head.length
        reusable = head.keep_alive
        if remaining is not None and filled - start > remaining:
            filled, reusable = start + remaining, False  # bytes past the body: never reuse this
        received = filled - start
        pos = start
        while True:
            if received > self.max_bytes:
                raise self._too_large()
            if remaining is not None and received >= remaining:
                break
            if filled == len(buffer):
                self._write(write, buffer[pos:filled])
                pos = filled = 0
            end = len(buffer) if remaining is None else min(len(buffer), filled + remaining - received)
            size = self._recv(sock, buffer[filled:end])
            if not size:
                if remaining is None:
                    break
                raise BadResponse(f"the peer closed {remaining - received} bytes before the body's end")
            filled += size
            received += size
        if self._aborted:
            raise Aborted
        self._write(write, buffer[pos:filled])
        return reusable

    def _chunked_body(
        self,
        sock: socket.socket,
        keep_alive: bool,
        start: int,
        filled: int,
        write: Callable[[memoryview], None],
    ) -> bool:
        """A chunked body (rare for files): each piece of payload written as it is decoded."""
        buffer = _thread_buffer()
        decoder = ChunkedDecoder()
        received = 0
        pos = start
        while True:
            pieces, used = decoder.feed(buffer[pos:filled])
            for piece in pieces:
                received += len(piece)
                if received > self.max_bytes:
                    raise self._too_large()
                self._write(write, piece)
            pos += used
            if decoder.done:
                return keep_alive and pos == filled
            tail = bytes(buffer[pos:filled])  # an incomplete line: kept for the next read
            buffer[: len(tail)] = tail
            pos, filled = 0, len(tail)
            size = self._recv(sock, buffer[filled:])
            if not size:
                raise BadResponse("the peer closed inside a chunked body")
            filled += size

    def _recv(self, sock: socket.socket, view: memoryview) -> int:
        """One `recv` into `view`, never waiting past the deadlines; counts progress and pays the rate
        limit for what arrived."""
        sock.settimeout(self._time_left())
        size = sock.recv_into(view)
        self._fresh += size
        if self._fresh >= PROGRESS_BYTES:
            self._fresh = 0
            self._stall_end = time.monotonic() + self.stall_seconds
        if size and self.throttle is not None:
            self._paused(self._wait_for_rate, size)
        return size

    def _too_large(self) -> FetchTooLarge:
        return FetchTooLarge(f"{self.shown} is over {self.max_bytes} bytes", self.shown)

    def _write(self, write: Callable[[memoryview], None], data: memoryview) -> None:
        try:
            self._paused(write, data)
        except OSError as exc:
            raise _WriteFailed(exc) from exc

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
