"""An HTTP client that moves a response body to /dev/null with splice(2), never copying it into memory.

`curl -o /dev/null` reads every byte into its own buffer before writing it away, a copy that `cat` of
the same files to /dev/null also makes but that a zero-copy server's figure should not carry twice.
Splicing socket → pipe → /dev/null leaves the kernel's pages where they are, so what is timed is the
server's sending and the loopback, not the client's memcpy.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import urllib.parse

_CHUNK = 1 << 20


def fetch_discard(url: str, timeout: float = 600.0) -> int:
    """GET `url` (http only), discard the body by splicing it into /dev/null; return the body's length.

    Raises RuntimeError unless the status is 200 and the body has exactly the announced length.
    """
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        head, early = _read_head(sock)
        status, length = _parse_head(head)
        if status != 200:
            raise RuntimeError(f"{url}: HTTP {status}")
        # splice needs a blocking socket; SO_RCVTIMEO still bounds a stalled server.
        sock.settimeout(None)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", int(timeout), 0))
        received = len(early) + _splice_to_null(sock)
    if length is not None and received != length:
        raise RuntimeError(f"{url}: {received} body bytes, Content-Length said {length}")
    return received


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The response head and whatever body bytes arrived with it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the response head ended")
        data += chunk
    head, _, early = data.partition(b"\r\n\r\n")
    return head, early


def _parse_head(head: bytes) -> tuple[int, int | None]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return status, int(value.strip())
    return status, None


def _splice_to_null(sock: socket.socket) -> int:
    total = 0
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _CHUNK)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        while moved := os.splice(sock.fileno(), write_end, _CHUNK):
            total += moved
            while moved:
                moved -= os.splice(read_end, null, moved)
    finally:
        for fd in (read_end, write_end, null):
            os.close(fd)
    return total
