"""Serving one segment file: safe path resolution, byte ranges, conditional requests, zero-copy sendfile.

This is the hot replication path, so it avoids aiohttp's FileResponse (two thread-pool hops per
request): a name is validated once and cached; then each request costs a tombstone check (one
`faccessat`), an `open` and an `fstat` on the event loop (no directory scan), and the bytes go out with one
`os.sendfile` between TCP_CORK and uncork (falling back to `loop.sendfile` when the socket is full).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import os
import socket
import stat
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.restreamer.errors import Forbidden, NotFound, RangeNotSatisfiable
from wubloader.store.naming import (
    SegmentType,
    check_component,
    parse_hour,
    parse_segment_name,
    tombstone_name,
)
from wubloader.store.segment_run import SegmentRun

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aiohttp.abc import AbstractStreamWriter

    from wubloader.store.naming import Segment

logger = logging.getLogger(__name__)

SEGMENT_CONTENT_TYPE = "video/mp2t"


@dataclass(frozen=True, slots=True, kw_only=True)
class ByteRange:
    """`length` bytes from `start` (inclusive)."""

    start: int
    length: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ServablePath:
    """A validated segment request: the file to open, its tombstone's path, and its ETag."""

    path: str
    tombstone: str
    etag: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenSegment:
    """An open segment file descriptor (owned by whoever holds this; close with `close()`)."""

    fd: int
    size: int
    mtime: float
    etag: str
    path: str

    def close(self) -> None:
        os.close(self.fd)

    def note_unsent(self, exc: OSError) -> None:
        """Log an answer of this file that failed after its head went out, unless the client caused
        it (a reset, a broken pipe, the send timeout): a read error is worth a line."""
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            logger.warning("segment %s not sent: %s", self.path, exc)


PathKey = tuple[str, str, str, str]
# Validated names kept by SegmentResolver: 16 MiB is ~1 day of 2 s segments of two qualities. An
# entry holds its key tuple, name, ServablePath, path, tombstone path and ETag: ~330 B beside the
# two paths' and the name's characters (measured with tracemalloc).
PATH_CACHE_BYTES = 16 * 1024 * 1024
PATH_ENTRY_BYTES = 330


class SegmentResolver:
    """Maps request path components to directories and files of the store, never outside it.

    The one symlink rule of every route: a directory (channel, quality, hour) may be a symlink to
    another directory inside the store and is followed; one whose real path leads out of the store
    is Forbidden. A segment file that is itself a symlink is never served or read (Forbidden).

    Validating a name (hidden/unsafe components, segment name syntax, `temp`, the hour directory's
    real path staying inside the store) depends only on the name and the store's directory layout,
    so a successful result is cached per (channel, quality, hour, name): a repeated request costs a
    dict lookup here, then one tombstone check and one `open` in `open_segment`. Both caches
    are bounded (cleared when full): `max_dirs` directories, `max_path_bytes` of names (estimated).
    The file itself is opened with O_NOFOLLOW.
    """

    def __init__(self, base_real: str, max_dirs: int = 4096, max_path_bytes: int = PATH_CACHE_BYTES) -> None:
        self.base_real = base_real
        self.max_dirs = max_dirs
        self.max_path_bytes = max_path_bytes
        self.path_bytes = 0
        self._dirs: dict[str, str] = {}
        self._paths: dict[PathKey, ServablePath] = {}

    def cached(self, key: PathKey) -> ServablePath | None:
        """The result of an earlier successful `resolve` of exactly these components, if cached."""
        return self._paths.get(key)

    def real_dir(self, path: str) -> str:
        """The real path of directory `path` (absolute); Forbidden if it lies outside the store."""
        real = self._dirs.get(path)
        if real is None:
            real = os.path.realpath(path)
            if not real.startswith(self.base_real + "/"):
                raise Forbidden("path leaves the store")
            if len(self._dirs) >= self.max_dirs:
                self._dirs.clear()
            self._dirs[path] = real
        return real

    def directory(self, *parts: str) -> str:
        """The real path of `BASE/part/…` (components already checked); Forbidden if outside."""
        return self.real_dir("/".join((self.base_real, *parts)))

    def hour_dir(self, channel: str, quality: str, hour: str) -> str:
        return self.directory(channel, quality, hour)

    def confine(self, chain: Iterable[Segment | SegmentRun | None], *, files: bool) -> None:
        """Check a selected chain (or its pieces) before use: every segment's directory stays inside
        the store and, with `files` (routes that read the bytes), every segment is a regular file,
        not a symlink.

        Forbidden for a directory leading out or a symlinked file; NotFound for a file that vanished
        or is not a regular file (e.g. a directory named like a segment). Blocking: run in a thread.
        """
        folder = ""
        for seg in chain:
            if seg is None:
                continue
            if seg.folder != folder or not folder:
                folder = seg.folder
                self.real_dir(folder[:-1] if folder else ".")
            if files:
                paths = map(folder.__add__, seg.names) if isinstance(seg, SegmentRun) else (seg.path,)
                for path in paths:
                    check_regular_file(path)

    def resolve(self, channel: str, quality: str, hour: str, name: str) -> ServablePath:
        """Forbidden: a component is hidden/unsafe or leads out of the store. NotFound: not a
        segment name or a `temp` file (missing and tombstoned files are found out by `open_segment`).
        """
        key = (channel, quality, hour, name)
        found = self._paths.get(key)
        if found is not None:
            return found
        for part in key:
            check_component(part)
        try:
            segment = parse_segment_name(parse_hour(hour), name)
        except ValueError:
            raise NotFound("no such segment") from None
        if segment.type is SegmentType.TEMP:
            raise NotFound("segment is still being written")
        hour_dir = self.hour_dir(channel, quality, hour)
        found = ServablePath(
            path=f"{hour_dir}/{name}",
            tombstone=f"{hour_dir}/{tombstone_name(name)}",
            etag=f'"{segment.hash}"',
        )
        size = PATH_ENTRY_BYTES + 2 * len(found.path) + len(name)
        if self.path_bytes + size > self.max_path_bytes:
            self._paths.clear()
            self.path_bytes = 0
        self.path_bytes += size
        self._paths[key] = found
        return found


def check_regular_file(path: str) -> None:
    """Forbidden if `path` is a symlink; NotFound if it is missing or not a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound("a segment vanished") from None
    if stat.S_ISLNK(mode):
        raise Forbidden("segment is a symlink")
    if not stat.S_ISREG(mode):
        raise NotFound("a segment name is not a regular file")


def open_segment(servable: ServablePath) -> OpenSegment:
    """Open a regular, untombstoned file for sending.

    NotFound if tombstoned, missing or not a regular file; Forbidden if a symlink or unreadable.
    """
    # `os.path.lexists` without its exception: a missing tombstone (the usual case) raised and
    # caught FileNotFoundError on every request. A dangling symlink still counts as a tombstone.
    if os.access(servable.tombstone, os.F_OK, follow_symlinks=False):
        raise NotFound("segment is tombstoned")
    try:
        fd = os.open(servable.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise NotFound("no such segment") from None
    except PermissionError:
        raise Forbidden("segment is not readable") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Forbidden("segment is a symlink") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotFound("no such segment")
    except BaseException:
        os.close(fd)
        raise
    return OpenSegment(fd=fd, size=st.st_size, mtime=st.st_mtime, etag=servable.etag, path=servable.path)


def parse_byte_range(header: str | None, size: int) -> ByteRange | None:
    """The single range a `Range` header asks for, or None to send the whole file.

    Malformed or multi-range headers are ignored (RFC 9110 allows that). A range starting at or
    past the end raises RangeNotSatisfiable (416 with `Content-Range: bytes */SIZE`).
    """
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[6:].strip().partition("-")
    if not sep or not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None
    if not first.isascii() or not last.isascii() or (first == "" and last == ""):
        return None
    if first == "":
        length = min(int(last), size)
        if length == 0:
            raise RangeNotSatisfiable("range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
        return ByteRange(start=size - length, length=length)
    start = int(first)
    stop = min(int(last) + 1, size) if last else size
    if start >= size:
        raise RangeNotSatisfiable("range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    if stop <= start:
        return None
    return ByteRange(start=start, length=stop - start)


def _etag_listed(etag: str, header: str) -> bool:
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or etag in candidates or f"W/{etag}" in candidates


def _not_after(header: str | None, mtime: float) -> bool:
    """True if the HTTP date in `header` is at or after `mtime` (second resolution)."""
    if not header:
        return False
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return int(mtime) <= when.timestamp()


def is_not_modified(headers: Mapping[str, str], segment: OpenSegment) -> bool:
    """If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)."""
    none_match = headers.get("If-None-Match")
    if none_match is not None:
        return _etag_listed(segment.etag, none_match)
    return _not_after(headers.get("If-Modified-Since"), segment.mtime)


def range_applies(headers: Mapping[str, str], segment: OpenSegment) -> bool:
    """`If-Range` with another ETag (or an older date) means: ignore Range, send everything."""
    if_range = headers.get("If-Range")
    if if_range is None:
        return True
    if if_range.startswith('"') or if_range.startswith("W/"):
        return if_range == segment.etag
    return _not_after(if_range, segment.mtime)


class SendfileResponse(web.StreamResponse):
    """Headers, then `count` bytes of an open segment from `offset`, zero-copy; owns (closes) the segment.

    Headers and body leave corked (TCP_CORK for the duration of the response, as nginx's
    `tcp_nopush`): with aiohttp's TCP_NODELAY the headers would otherwise go out as a packet of
    their own, waking the client once for them and again for the body. Uncorking flushes.
    """

    def __init__(
        self, segment: OpenSegment, *, status: int, offset: int, count: int, headers: Mapping[str, str]
    ) -> None:
        super().__init__(status=status, headers=headers)
        self._segment = segment
        self._offset = offset
        self._count = count
        self.content_length = count

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self.prepared:  # sent by the handler; aiohttp prepares what a handler returns again
            return await super().prepare(request)
        transport = request.transport
        send_body = bool(self._count) and request.method != "HEAD"
        sock = transport.get_extra_info("socket") if transport is not None and send_body else None
        corked = sock is not None and set_cork(sock, True)
        try:
            writer = await super().prepare(request)
            if send_body:
                if transport is None:
                    raise ConnectionResetError("connection lost")
                await send_file(transport, self._segment.fd, self._offset, self._count)
            await super().write_eof()
            return writer
        finally:
            self._segment.close()
            if corked and sock is not None:
                set_cork(sock, False)


def set_cork(sock: socket.socket, on: bool) -> bool:
    """Set TCP_CORK; False if the socket cannot (not TCP) or is already closed (fileno -1 is
    never a reused descriptor, so an uncork after the client left is harmless)."""
    if sock.fileno() == -1:
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)
    except OSError:
        return False
    return True


def send_now(transport: asyncio.Transport, fd: int, offset: int, count: int) -> int:
    """Send what the socket takes now of `count` bytes of file `fd` from `offset`, zero-copy, with
    `os.sendfile`; return how many bytes went. Nothing is sent while the transport has buffered
    data (it would go out of order). A segment that fits in the socket buffer (the usual case)
    costs one syscall. Raises what `os.sendfile` raises except BlockingIOError.
    """
    sock = transport.get_extra_info("socket")
    if sock is None or transport.get_write_buffer_size() or transport.is_closing():
        return 0
    start, end = offset, offset + count
    try:
        while offset < end:
            sent = os.sendfile(sock.fileno(), fd, offset, end - offset)
            if sent == 0:
                raise ConnectionResetError("file shrank while sending")
            offset += sent
    except BlockingIOError:
        pass
    return offset - start


async def send_rest(transport: asyncio.Transport, fd: int, offset: int, count: int) -> None:
    """Send `count` bytes of file `fd` from `offset` with `loop.sendfile`, which waits for the
    socket to take them (and for the transport's buffer to drain first)."""
    with os.fdopen(fd, "rb", closefd=False) as file:
        await asyncio.get_running_loop().sendfile(transport, file, offset, count)


async def send_file(transport: asyncio.Transport, fd: int, offset: int, count: int) -> None:
    """Zero-copy `count` bytes of the file `fd` from `offset` to the transport's socket: what the
    socket takes at once, then the rest as it drains."""
    sent = send_now(transport, fd, offset, count)
    if sent < count:
        await send_rest(transport, fd, offset + sent, count - sent)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(seconds: float) -> str:
    """`email.utils.formatdate(seconds, usegmt=True)`, character for character, in a third of its time.

    formatdate goes through an aware datetime, which rounds to the microsecond half to even, so
    59.9999996 is second 60; the same rounding is done here before `time.gmtime`. Day and month
    names come from tables (strftime's `%a`/`%b` follow the locale; its digits do not). Years
    outside 1000..9999 (`%Y` does not pad; datetime refuses 10000) are left to formatdate itself,
    errors included.
    """
    fraction, whole = math.modf(seconds)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole += 1.0
    elif micros < 0:
        whole -= 1.0
    try:
        tm = time.gmtime(whole)
    except (OverflowError, OSError, ValueError):
        return formatdate(seconds, usegmt=True)
    if not 1000 <= tm.tm_year <= 9999:
        return formatdate(seconds, usegmt=True)
    return time.strftime(f"{WEEKDAYS[tm.tm_wday]}, %d {MONTHS[tm.tm_mon - 1]} %Y %H:%M:%S GMT", tm)


def segment_headers(segment: OpenSegment) -> dict[str, str]:
    return {
        "Content-Type": SEGMENT_CONTENT_TYPE,
        "ETag": segment.etag,
        "Last-Modified": http_date(segment.mtime),
        "Accept-Ranges": "bytes",
        # Revalidate (cheap: ETag → 304) rather than cache, so a tombstone takes effect at once.
        "Cache-Control": "no-cache",
    }


def segment_response(headers: Mapping[str, str], segment: OpenSegment) -> web.StreamResponse:
    """200, 206 or 304 for a request with `headers` (raises RangeNotSatisfiable for a 416).

    Takes ownership of `segment`: the returned response closes it (so does raising).
    """
    try:
        out = segment_headers(segment)
        if is_not_modified(headers, segment):
            segment.close()
            return web.Response(status=304, headers=out)
        byte_range = parse_byte_range(headers.get("Range"), segment.size)
    except BaseException:
        segment.close()
        raise
    if byte_range is None or not range_applies(headers, segment):
        return SendfileResponse(segment, status=200, offset=0, count=segment.size, headers=out)
    end = byte_range.start + byte_range.length - 1
    out["Content-Range"] = f"bytes {byte_range.start}-{end}/{segment.size}"
    return SendfileResponse(
        segment, status=206, offset=byte_range.start, count=byte_range.length, headers=out
    )
