"""The download threads' HTTP/1.1: heads parsed exactly or refused, chunked bodies decoded whatever
the read boundaries. Real servers' answers are read end to end in test_segment_download.py (a raw
server), test_hostile_peers.py (aiohttp, chunked) and test_nginx_config.py (nginx)."""

from __future__ import annotations

import pytest

from wubloader.backfiller.http11 import (
    MAX_LINE,
    BadResponse,
    ChunkedDecoder,
    ResponseHead,
    parse_head,
    request_bytes,
)

NGINX_HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 16:40:00 GMT\r\n"
    b"Content-Type: video/mp2t\r\nContent-Length: 300000\r\nLast-Modified: Wed, 01 May 2024 10:00:00 GMT\r\n"
    b'Connection: keep-alive\r\nETag: "66321120-493e0"\r\nAccept-Ranges: bytes'
)


def test_the_request_is_one_plain_get():
    request = request_bytes("peer:8000", "/segments/c/q/h/00%3A00.ts", {"User-Agent": "w/1"})
    assert request == (
        b"GET /segments/c/q/h/00%3A00.ts HTTP/1.1\r\nHost: peer:8000\r\nAccept-Encoding: identity\r\n"
        b"User-Agent: w/1\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (NGINX_HEAD, ResponseHead(200, 300000, False, True)),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nConnection: close", ResponseHead(200, 5, False, False)),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", ResponseHead(200, None, True, True)),
        # a Transfer-Encoding overrides a Content-Length (and a body it does not frame ends at close)
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked",
            ResponseHead(200, None, True, True),
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip", ResponseHead(200, None, False, False)),
        (b"HTTP/1.1 200 OK", ResponseHead(200, None, False, False)),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 5", ResponseHead(200, 5, False, False)),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: Keep-Alive",
            ResponseHead(200, 5, False, True),
        ),
        (b"HTTP/1.1 204 No Content", ResponseHead(204, 0, False, True)),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 3", ResponseHead(404, 3, False, True)),
        (b"HTTP/1.1 200\r\nContent-Length: 1\r\nX-Folded: a\r\n b", ResponseHead(200, 1, False, True)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\ncontent-length: 7", ResponseHead(200, 7, False, True)),
    ],
)
def test_heads_say_how_the_body_is_framed(head, expected):
    assert parse_head(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"HTTP/2 200",
        b"ICY 200 OK",
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 20x OK",
        b"HTTP/1.1 100 Continue",
        b"HTTP/1.1 200 OK\r\nno colon here",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6",
        b"HTTP/1.1 200 OK\r\nContent-Length: -5",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1e3",
        "HTTP/1.1 200 OK\r\nContent-Length: \u00b2".encode("latin-1"),
    ],
)
def test_heads_that_cannot_be_read_exactly_are_refused(head):
    with pytest.raises(BadResponse):
        parse_head(head)


CHUNKED = b"5\r\nhello\r\n6;name=value\r\n world\r\nA\r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\n"


def decode(pieces: list[bytes]) -> tuple[bytes, bool, bytes]:
    """Feed `pieces` as reads arrive, keeping unused bytes for the next feed like the download does."""
    decoder = ChunkedDecoder()
    payload, pending = b"", b""
    for piece in pieces:
        pending += piece
        out, used = decoder.feed(memoryview(pending))
        payload += b"".join(bytes(view) for view in out)
        pending = pending[used:]
    return payload, decoder.done, pending


def test_a_chunked_body_decodes_the_same_at_every_read_boundary():
    for cut in range(len(CHUNKED) + 1):
        for second in range(cut, len(CHUNKED) + 1):
            pieces = [CHUNKED[:cut], CHUNKED[cut:second], CHUNKED[second:]]
            assert decode(pieces) == (b"hello world, chunked!", True, b"")
    assert decode([CHUNKED[i : i + 1] for i in range(len(CHUNKED))]) == (b"hello world, chunked!", True, b"")


def test_bytes_after_the_last_chunk_are_left_unused():
    assert decode([b"0\r\n\r\nHTTP/1.1"]) == (b"", True, b"HTTP/1.1")


@pytest.mark.parametrize(
    "body",
    [b"zz\r\n", b"\r\n", b"5\r\nhelloXX", b"-1\r\n", b"1" * 17 + b"\r\n", b"5" * MAX_LINE],
)
def test_bad_chunk_framing_is_refused(body):
    with pytest.raises(BadResponse):
        ChunkedDecoder().feed(memoryview(body))
