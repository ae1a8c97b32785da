"""Proves runtime/http_client.py against real local servers: bodies, streaming, and error conversion."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from wubloader.runtime.errors import (
    FetchConnectionError,
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    FetchTooLarge,
)
from wubloader.runtime.http_client import create_session, fetch_bytes, iter_body, redact_url
from wubloader.runtime.serve import RunningServer, start_app

BIG = bytes(range(256)) * 1000


async def ok(request: web.Request) -> web.Response:
    return web.Response(body=b"segment bytes")


async def big(request: web.Request) -> web.Response:
    return web.Response(body=BIG)


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(body=b"too late")


async def stalls_mid_body(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_length = 100
    await response.prepare(request)
    await response.write(b"x" * 10)
    await asyncio.sleep(5)
    return response


async def unavailable(request: web.Request) -> web.Response:
    raise web.HTTPServiceUnavailable()


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/big", big)
    app.router.add_get("/slow", slow)
    app.router.add_get("/stall", stalls_mid_body)
    app.router.add_get("/503", unavailable)
    running = await start_app(app, "127.0.0.1", 0, drain_timeout=0.1)
    yield running
    await running.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with create_session() as client:
        yield client


async def test_fetch_bytes(server: RunningServer, session: aiohttp.ClientSession) -> None:
    before = REGISTRY.get_sample_value(
        "wubloader_http_client_requests_total", {"name": "t-ok", "outcome": "ok"}
    )
    assert await fetch_bytes(session, f"{server.url}/ok", timeout=5, name="t-ok") == b"segment bytes"
    assert await fetch_bytes(session, f"{server.url}/big", timeout=5) == BIG
    after = REGISTRY.get_sample_value(
        "wubloader_http_client_requests_total", {"name": "t-ok", "outcome": "ok"}
    )
    assert (after or 0) - (before or 0) == 1


async def test_iter_body_streams_in_chunks(server: RunningServer, session: aiohttp.ClientSession) -> None:
    chunks = [chunk async for chunk in iter_body(session, f"{server.url}/big", timeout=5, chunk_size=4096)]
    assert b"".join(chunks) == BIG
    assert len(chunks) > 1
    assert max(map(len, chunks)) <= 4096


async def test_iter_body_can_stop_early(server: RunningServer, session: aiohttp.ClientSession) -> None:
    body = iter_body(session, f"{server.url}/big", timeout=5, chunk_size=1000)
    async with contextlib.aclosing(body):
        first = await anext(body)
    assert first == BIG[: len(first)]
    assert await fetch_bytes(session, f"{server.url}/ok", timeout=5) == b"segment bytes"  # session still fine


async def test_http_errors(server: RunningServer, session: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchHTTPError) as info:
        await fetch_bytes(session, f"{server.url}/missing?token=hunter2", timeout=5)
    assert info.value.status == 404
    assert not info.value.retryable
    assert "hunter2" not in str(info.value) and "hunter2" not in info.value.url
    assert info.value.__cause__ is None  # raised by the status check, not converted from aiohttp

    with pytest.raises(FetchHTTPError) as info:
        async for _ in iter_body(session, f"{server.url}/503", timeout=5):
            pass
    assert info.value.status == 503
    assert info.value.retryable


async def test_closed_port_is_a_connection_error(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchConnectionError) as info:
        await fetch_bytes(session, f"http://127.0.0.1:{port}/x?sig=secret", timeout=5)
    assert info.value.retryable
    assert isinstance(info.value.__cause__, aiohttp.ClientError | OSError)
    assert "secret" not in str(info.value)


async def test_slow_server_is_a_timeout(server: RunningServer, session: aiohttp.ClientSession) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(FetchTimeout) as info:
        await fetch_bytes(session, f"{server.url}/slow", timeout=0.2)
    assert loop.time() - started < 2
    assert info.value.retryable
    assert isinstance(info.value.__cause__, TimeoutError)


async def test_stall_mid_body_hits_the_read_timeout(
    server: RunningServer, session: aiohttp.ClientSession
) -> None:
    received = b""
    with pytest.raises(FetchTimeout):
        async for chunk in iter_body(session, f"{server.url}/stall", timeout=5, read_timeout=0.2):
            received += chunk
    assert received == b"x" * 10


async def test_truncated_body_is_a_connection_error(session: aiohttp.ClientSession) -> None:
    async def lying_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this much")
        await writer.drain()
        writer.close()

    raw = await asyncio.start_server(lying_server, "127.0.0.1", 0)
    port = raw.sockets[0].getsockname()[1]
    try:
        with pytest.raises(FetchConnectionError):
            await fetch_bytes(session, f"http://127.0.0.1:{port}/", timeout=5)
    finally:
        raw.close()
        await raw.wait_closed()


async def test_body_over_max_bytes(server: RunningServer, session: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchTooLarge) as info:
        await fetch_bytes(session, f"{server.url}/big", timeout=5, max_bytes=1000)
    assert not info.value.retryable
    assert await fetch_bytes(session, f"{server.url}/big", timeout=5, max_bytes=len(BIG)) == BIG


async def test_invalid_urls_are_not_retryable(session: aiohttp.ClientSession) -> None:
    for url in ["ftp://example.org/file", "http://[::1/x"]:
        with pytest.raises(FetchError) as info:
            await fetch_bytes(session, url, timeout=5)
        assert not info.value.retryable


def test_redact_url() -> None:
    assert redact_url("https://user:pw@usher.example/api/x.m3u8?sig=abc&token=def#frag") == (
        "https://usher.example/api/x.m3u8"
    )
    assert redact_url("http://127.0.0.1:8000/files") == "http://127.0.0.1:8000/files"
