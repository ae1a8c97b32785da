"""Proves runtime/serve.py in-process: start/close, drain on stop, start-up stops, run_until_stopped."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket

import aiohttp
import pytest
from aiohttp import web

from wubloader.runtime.errors import ListenError, RuntimeConfigError
from wubloader.runtime.serve import RunningServer, run_component, run_until_stopped, serve_app, start_app
from wubloader.runtime.signals import SignalLatch


@pytest.fixture(autouse=True)
def _unfreeze():
    """run_component freezes what is alive (see below): give the test process its collector back."""
    yield
    gc.unfreeze()


def make_app(release: asyncio.Event | None = None) -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def wait_for_release(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first;")
        assert release is not None
        await release.wait()
        await response.write(b"last")
        return response

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/held", wait_for_release)
    return app


async def connect_refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except (ConnectionRefusedError, ConnectionResetError):  # reset: raced with the listener closing
        return True
    writer.close()
    return False


async def test_start_app_on_port_zero_reports_the_real_port() -> None:
    server = await start_app(make_app(), "127.0.0.1", 0)
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as session, session.get(server.url) as resp:
        assert await resp.text() == "hello"
    await server.close()
    assert await connect_refused(server.port)


async def test_start_app_port_in_use_is_a_listen_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError, match=f"127.0.0.1:{port}"):
            await start_app(make_app(), "127.0.0.1", port)


async def test_serve_app_drains_in_flight_request_after_stop() -> None:
    release = asyncio.Event()
    stop = asyncio.Event()
    listening: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()
    async with asyncio.TaskGroup() as group:
        serving = group.create_task(
            serve_app(
                make_app(release), "127.0.0.1", 0, stop, drain_timeout=60, on_listening=listening.set_result
            )
        )
        server = await asyncio.wait_for(listening, 60)
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/held") as resp:
            assert await resp.content.readexactly(6) == b"first;"
            stop.set()
            async with asyncio.timeout(60):  # inside the drain: the held request is released below
                while not await connect_refused(server.port):
                    await asyncio.sleep(0.01)
            assert not serving.done()  # still draining the held request
            release.set()
            assert await resp.content.read() == b"last"
        await asyncio.wait_for(serving, 60)


async def test_serve_app_cuts_requests_that_outlast_the_drain_timeout() -> None:
    release = asyncio.Event()  # never set
    stop = asyncio.Event()
    listening: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()
    async with asyncio.TaskGroup() as group:
        serving = group.create_task(
            serve_app(
                make_app(release), "127.0.0.1", 0, stop, drain_timeout=0.3, on_listening=listening.set_result
            )
        )
        server = await asyncio.wait_for(listening, 60)
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/held") as resp:
            await resp.content.readexactly(6)
            stop.set()
            await asyncio.wait_for(serving, 60)
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.content.read()


async def test_serve_app_does_not_listen_when_stopped_during_start_up() -> None:
    stop = asyncio.Event()
    stop.set()
    called: list[RunningServer] = []
    await asyncio.wait_for(serve_app(make_app(), "127.0.0.1", 0, stop, on_listening=called.append), 60)
    assert called == []


async def test_run_until_stopped_returns_mains_exit_code() -> None:
    async def main(stop: asyncio.Event) -> int:
        assert not stop.is_set()
        return 3

    assert await run_until_stopped(main) == 3


async def test_run_until_stopped_replays_a_signal_caught_before_the_loop() -> None:
    latch = SignalLatch()  # not installed: stands in for one that caught SIGTERM during imports
    latch.received = signal.SIGTERM
    seen: list[bool] = []

    async def main(stop: asyncio.Event) -> None:
        seen.append(stop.is_set())

    assert await run_until_stopped(main, latch=latch) == 0
    assert seen == [True]


async def test_run_until_stopped_propagates_errors() -> None:
    async def main(stop: asyncio.Event) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        await run_until_stopped(main)


def test_run_component_exit_codes(caplog: pytest.LogCaptureFixture) -> None:
    async def graceful(stop: asyncio.Event) -> None:
        return None

    async def bad_config(stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:  # wrapped in an ExceptionGroup on the way out
            group.create_task(_raise(RuntimeConfigError("--channel is required")))

    async def cannot_listen(stop: asyncio.Event) -> None:
        raise ListenError("cannot listen on http://127.0.0.1:1: Permission denied")

    async def bug(stop: asyncio.Event) -> None:
        raise KeyError("bug")

    with caplog.at_level(logging.INFO, logger="wubloader.runtime.serve"):
        assert run_component(graceful) == 0
        assert run_component(bad_config) == 2
        assert run_component(cannot_listen) == 1
        assert run_component(bug) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors[:2]] == [
        "--channel is required",
        "cannot listen on http://127.0.0.1:1: Permission denied",
    ]
    assert errors[0].exc_info is None and errors[1].exc_info is None  # one clear line each
    assert errors[2].exc_info is not None  # the unexpected one keeps its traceback


async def _raise(exc: Exception) -> None:
    raise exc


def test_run_component_takes_what_start_up_made_out_of_the_collectors_view() -> None:
    gc.unfreeze()
    made_at_start_up = [[] for _ in range(1000)]  # containers the collector tracks
    frozen: list[int] = []

    async def main(stop: asyncio.Event) -> None:
        frozen.append(gc.get_freeze_count())
        assert not any(o is made_at_start_up for o in gc.get_objects())  # no full collection walks it

    assert run_component(main) == 0
    assert frozen[0] >= len(made_at_start_up)
