"""Proves runtime/health.py: `/healthz` answers, `/readyz` runs the supplied checks under a deadline."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from wubloader.runtime.health import Health, add_health_routes
from wubloader.runtime.metrics import start_metrics_server
from wubloader.runtime.serve import start_app
from wubloader.store.writer import writable_check


async def ok() -> None:
    return None


async def broken() -> None:
    raise OSError("disk on\nfire")


async def slow() -> None:
    await asyncio.sleep(60)


async def probe(health: Health) -> dict[str, tuple[int, dict[str, str]]]:
    """GET both routes from a real server carrying `health`; status and JSON body per path."""
    app = web.Application()
    add_health_routes(app, health)
    server = await start_app(app, "127.0.0.1", 0)
    answers = {}
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/healthz", "/readyz"):
                async with session.get(server.url + path) as response:
                    answers[path] = (response.status, await response.json())
    finally:
        await server.close()
    return answers


async def test_ready_when_every_check_passes() -> None:
    answers = await probe(Health({"store": ok, "database": ok}, stop=asyncio.Event()))
    assert answers == {"/healthz": (200, {"status": "alive"}), "/readyz": (200, {"status": "ready"})}


async def test_first_failing_check_is_the_one_line_reason() -> None:
    answers = await probe(Health({"store": ok, "database": broken, "other": broken}))
    assert answers["/healthz"] == (200, {"status": "alive"})
    assert answers["/readyz"] == (503, {"status": "not ready", "reason": "database: disk on fire"})


async def test_a_hanging_check_is_reported_after_the_deadline() -> None:
    answers = await probe(Health({"database": slow}, timeout=0.2))
    assert answers["/readyz"] == (503, {"status": "not ready", "reason": "database: no answer within 0.2 s"})


async def test_draining_is_alive_but_not_ready() -> None:
    stop = asyncio.Event()
    stop.set()
    answers = await probe(Health({"store": ok}, stop=stop))
    assert answers["/healthz"] == (200, {"status": "alive"})
    assert answers["/readyz"] == (503, {"status": "not ready", "reason": "draining: stopping after SIGTERM"})


async def test_store_check_creates_the_store_and_leaves_nothing(tmp_path) -> None:
    base = tmp_path / "store"
    assert (await probe(Health({"store": writable_check(base)})))["/readyz"][0] == 200
    assert base.is_dir() and list(base.iterdir()) == []


async def test_store_check_fails_when_the_store_cannot_be_written(tmp_path) -> None:
    # A file where the store directory should be: no directory can be made there, even as root.
    (tmp_path / "store").write_bytes(b"")
    status, body = (await probe(Health({"store": writable_check(tmp_path / "store" / "base")})))["/readyz"]
    assert status == 503
    assert body["reason"].startswith("store: [Errno 20] Not a directory")


async def test_metrics_server_serves_health_beside_metrics() -> None:
    server = await start_metrics_server("127.0.0.1", 0, health=Health({"store": broken}))
    try:
        async with aiohttp.ClientSession() as session:
            for path, status in (("/metrics", 200), ("/healthz", 200), ("/readyz", 503)):
                async with session.get(server.url + path) as response:
                    assert response.status == status, path
    finally:
        await server.close()
