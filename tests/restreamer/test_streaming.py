"""A streamed body that fails after its first byte ends without its terminating chunk, so clients notice."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from wubloader.media.errors import FfmpegFailed
from wubloader.restreamer.streaming import stream_body


def failing_app(error: Exception) -> web.Application:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"x" * 100_000
        raise error

    async def handler(request: web.Request) -> web.StreamResponse:
        return await stream_body(request, web.StreamResponse(), chunks())

    app = web.Application()
    app.router.add_get("/", handler)
    return app


@pytest.mark.parametrize("error", [FfmpegFailed("ffmpeg", 1, "boom"), OSError("gone"), ValueError("bug")])
async def test_failure_after_first_byte_is_a_client_error(error, caplog):
    async with TestClient(TestServer(failing_app(error), host="127.0.0.1")) as client:
        response = await client.get("/")
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in failures] == ["wubloader.restreamer.streaming"]


async def test_complete_body_ends_normally():
    async def handler(request: web.Request) -> web.StreamResponse:
        return await stream_body(request, web.StreamResponse(), _two())

    app = web.Application()
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/")
        assert await response.read() == b"ab"


async def _two() -> AsyncIterator[bytes]:
    yield b"a"
    yield b"b"
