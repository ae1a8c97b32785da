"""The HTTP/1.1 a download thread speaks: one GET's bytes, the answer's head, chunked framing.

Why not http.client: it parses every answer's head through the email package, about 600 Python
calls per segment, more CPU than the rest of the transfer in Python together; a download thread
holding the GIL that long also delays every other thread. Everything here is plain byte work and
refuses what it cannot read exactly (BadResponse) rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

# The longest answer head read before giving up on the peer.
MAX_HEAD = 64 * 1024
# The longest chunk-size or trailer line.
MAX_LINE = 4096
_HEX = frozenset("0123456789abcdefABCDEF")


class BadResponse(Exception):
    """The peer's answer is not HTTP/1.x that can be read exactly."""


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """What the download needs from an answer's head. `length` is None for a chunked body or one
    that ends when the peer closes; `keep_alive` says whether the connection takes another request."""

    status: int
    length: int | None
    chunked: bool
    keep_alive: bool


def request_bytes(host: str, path: str, headers: dict[str, str]) -> bytes:
    """A GET for `path` (already percent-encoded) with a Host header and `headers`."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_head(head: bytes) -> ResponseHead:
    """Parse a head (status line and header lines, without the blank line that ends it).

    A Transfer-Encoding overrides a Content-Length; a body with neither ends when the connection
    closes (so it is not reused), as does any HTTP/1.0 answer without `keep-alive`.
    """
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not _digits(code) or rest[3:4] not in ("", " "):
        raise BadResponse(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    status = int(code)
    if status < 200:
        raise BadResponse(f"unexpected interim answer {status}")
    length: int | None = None
    encodings: str | None = None
    close = version == "HTTP/1.0"
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            continue  # an obsolete folded continuation: of no header read here
        name, colon, value = line.partition(":")
        if not colon:
            raise BadResponse(f"not a header line: {line[:80]!r}")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            if not _digits(value) or (length is not None and int(value) != length):
                raise BadResponse(f"bad Content-Length {value[:40]!r}")
            length = int(value)
        elif name == "transfer-encoding":
            encodings = value.lower() if encodings is None else f"{encodings},{value.lower()}"
        elif name == "connection":
            tokens = {token.strip().lower() for token in value.split(",")}
            if "close" in tokens:
                close = True
            elif "keep-alive" in tokens and version == "HTTP/1.0":
                close = False
    chunked = False
    if encodings is not None:
        length = None
        chunked = encodings.rsplit(",", 1)[-1].strip() == "chunked"
    if status in (204, 304):
        length, chunked = 0, False
    if length is None and not chunked:
        close = True
    return ResponseHead(status=status, length=length, chunked=chunked, keep_alive=not close)


class ChunkedDecoder:
    """Takes a chunked body as it arrives and gives back its payload, as views of the input."""

    def __init__(self) -> None:
        self._state = "size"  # size | data | data_end | trailer | done
        self._left = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: memoryview) -> tuple[list[memoryview], int]:
        """The payload pieces in `data` and how many of its bytes were used: the rest (an incomplete
        size line or chunk end) must be fed again with what follows it."""
        pieces: list[memoryview] = []
        pos, end = 0, len(data)
        while pos < end and self._state != "done":
            if self._state == "data":
                take = min(self._left, end - pos)
                pieces.append(data[pos : pos + take])
                pos += take
                self._left -= take
                if not self._left:
                    self._state = "data_end"
            elif self._state == "data_end":
                if end - pos < 2:
                    break
                if bytes(data[pos : pos + 2]) != b"\r\n":
                    raise BadResponse("a chunk does not end where its size says")
                pos += 2
                self._state = "size"
            else:
                window = bytes(data[pos : min(end, pos + MAX_LINE)])
                newline = window.find(b"\r\n")
                if newline < 0:
                    if len(window) >= MAX_LINE:
                        raise BadResponse("chunk line too long")
                    break
                pos += newline + 2
                self._line(window[:newline].decode("latin-1"))
        return pieces, pos

    def _line(self, line: str) -> None:
        if self._state == "trailer":
            if not line:
                self._state = "done"
            return
        size = line.partition(";")[0].strip()
        if not size or not _HEX.issuperset(size) or len(size) > 16:
            raise BadResponse(f"bad chunk size {line[:40]!r}")
        self._left = int(size, 16)
        self._state = "data" if self._left else "trailer"
