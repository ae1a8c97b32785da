"""The restreamer's fast lane: plain `GET /segments/…` requests answered without aiohttp's machinery.

A peer's backfiller and a player fetch whole segments with plain GETs over kept-alive connections;
through aiohttp each cost about three times nginx's CPU. This lane answers exactly those requests
with the same status, headers and bytes as `routes_segments` (the same resolver, tombstone check,
open and sendfile). It declines, leaving the request and its connection to aiohttp, anything else:
another path or method, HTTP/1.0, a query, an escape other than `%3A`, a name starting with a dot,
Range, conditional or body headers, `Connection` other than keep-alive, a header it cannot read
exactly, and every request whose answer would not be 200 (missing, tombstoned, forbidden, or the
process out of descriptors). aiohttp then gives those the app's own answer.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING

from aiohttp.http import SERVER_SOFTWARE

from wubloader.errors import WubloaderError
from wubloader.restreamer.schemas import MAX_COMPONENT_BYTES
from wubloader.restreamer.segment_file import (
    OpenSegment,
    http_date,
    open_segment,
    segment_headers,
    send_now,
    send_rest,
    set_cork,
)
from wubloader.runtime.http_errors import CORS_HEADERS

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable

    from wubloader.restreamer.segment_file import PathKey, SegmentResolver, ServablePath
    from wubloader.runtime.metrics import RequestRecorder

SEGMENT_ROUTE = "/segments/{channel}/{quality}/{hour}/{file}"

# The four path components: store-name characters and `%3A` (how clients escape ':'; other escapes
# and leading dots are declined after the match). Header lines: a token, a colon, then printable
# ASCII or tabs (anything else: aiohttp decides).
_PART = rb"[A-Za-z0-9_~:%.-]+"
_HEADERS = rb"(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e]*\r\n)*"
SEGMENT_GET = re.compile(
    rb"GET /segments/(" + rb"/".join([_PART] * 4) + rb") HTTP/1\.1\r\n(" + _HEADERS + rb")\r\n"
)
# Headers that change the answer or the connection's framing; `Connection: keep-alive` is fine.
DECLINED_HEADERS = re.compile(
    rb"^(?:(?:range|if-[^:]*|content-length|transfer-encoding|expect|upgrade|te|trailer|keep-alive):"
    rb"|connection:(?![ \t]*keep-alive[ \t]*\r\n))",
    re.IGNORECASE | re.MULTILINE,
)
# aiohttp refuses a request with more than 128 header lines; the lane leaves long lists to it.
MAX_HEADERS = 64
_TAIL = "".join(f"{name}: {value}\r\n" for name, value in CORS_HEADERS.items()) + "\r\n"


class SegmentLane:
    """Answers plain segment GETs (see the module docstring); recorded in the same request metrics."""

    def __init__(self, resolver: SegmentResolver, recorder: RequestRecorder) -> None:
        self.resolver = resolver
        self.recorder = recorder
        self._date_second = -1
        self._date = ""

    def answer(self, head: bytes, transport: asyncio.Transport) -> bool | Awaitable[None]:
        match = SEGMENT_GET.fullmatch(head)
        if match is None or DECLINED_HEADERS.search(match[2]) or match[2].count(b"\n") > MAX_HEADERS:
            return False
        path = match[1]
        if path.startswith(b".") or b"/." in path:
            return False
        if b"%" in path:
            path = path.replace(b"%3A", b":").replace(b"%3a", b":")
            if b"%" in path:
                return False
        started = time.perf_counter()
        key: PathKey = tuple(path.decode("ascii").split("/"))  # four parts: the pattern has no other "/"
        servable = self.resolver.cached(key) or self._resolve(key)
        if servable is None:
            return False
        try:
            segment = open_segment(servable)
        except (WubloaderError, OSError):
            return False
        return self._send(segment, transport, started)

    def _resolve(self, key: PathKey) -> ServablePath | None:
        if any(len(part) > MAX_COMPONENT_BYTES for part in key):
            return None
        try:
            return self.resolver.resolve(*key)
        except (WubloaderError, OSError):
            return None

    def _head(self, segment: OpenSegment) -> bytes:
        """The status line and headers aiohttp's SendfileResponse writes, in its order."""
        now = int(time.time())
        if now != self._date_second:
            self._date_second, self._date = now, http_date(now)
        lines = "".join(f"{name}: {value}\r\n" for name, value in segment_headers(segment).items())
        return (
            f"HTTP/1.1 200 OK\r\n{lines}Content-Length: {segment.size}\r\n"
            f"Date: {self._date}\r\nServer: {SERVER_SOFTWARE}\r\n{_TAIL}"
        ).encode("latin-1")

    def _send(
        self, segment: OpenSegment, transport: asyncio.Transport, started: float
    ) -> bool | Awaitable[None]:
        sock = transport.get_extra_info("socket")
        corked = sock is not None and set_cork(sock, True)
        try:
            transport.write(self._head(segment))
            sent = send_now(transport, segment.fd, 0, segment.size) if segment.size else 0
        except OSError as exc:
            segment.note_unsent(exc)
            self._finish(segment, transport, corked, started, "aborted")
            transport.abort()
            return True
        if sent < segment.size:
            return self._send_rest(segment, transport, sent, corked, started)
        self._finish(segment, transport, corked, started, "2xx")
        return True

    async def _send_rest(
        self, segment: OpenSegment, transport: asyncio.Transport, sent: int, corked: bool, started: float
    ) -> None:
        outcome = "aborted"
        try:
            await send_rest(transport, segment.fd, sent, segment.size - sent)
            outcome = "2xx"
        except OSError as exc:
            segment.note_unsent(exc)
            raise
        finally:
            self._finish(segment, transport, corked, started, outcome)

    def _finish(
        self, segment: OpenSegment, transport: asyncio.Transport, corked: bool, started: float, outcome: str
    ) -> None:
        segment.close()
        if corked:
            set_cork(transport.get_extra_info("socket"), False)
        self.recorder.record(SEGMENT_ROUTE, "GET", outcome, time.perf_counter() - started)


def lane_allowed() -> bool:
    """False when aiohttp access-logs requests (log level DEBUG): every request then goes through
    aiohttp, so each one is logged."""
    return not logging.getLogger("aiohttp.access").isEnabledFor(logging.INFO)
