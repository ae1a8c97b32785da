"""Proves runtime/metrics.py: request metrics labelled by route template, /metrics exposition."""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import shutil

import aiohttp
from aiohttp import web
from prometheus_client import REGISTRY

from wubloader.runtime.metrics import (
    METRICS_CONTENT_TYPE,
    add_metrics_route,
    request_metrics_middleware,
    serve_metrics,
    start_metrics_server,
    watch_store_space,
)
from wubloader.runtime.serve import RunningServer, start_app

_services = itertools.count()


def unique_service() -> str:
    """Metrics are process-global; a fresh service label keeps each test's counts its own."""
    return f"test{next(_services)}"


async def channel_handler(request: web.Request) -> web.Response:
    return web.Response(text=request.match_info["channel"])


async def teapot_handler(request: web.Request) -> web.Response:
    raise web.HTTPBadRequest(text="no")


def make_app(service: str) -> web.Application:
    app = web.Application(middlewares=[request_metrics_middleware(service)])
    app.router.add_get("/files/{channel}", channel_handler)
    app.router.add_get("/bad", teapot_handler)
    add_metrics_route(app)
    return app


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_are_labelled_by_route_template() -> None:
    service = unique_service()
    server = await start_app(make_app(service), "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            for channel in ["secret-channel-name", "other"]:
                async with session.get(f"{server.url}/files/{channel}") as resp:
                    assert resp.status == 200
            async with session.get(f"{server.url}/bad") as resp:
                assert resp.status == 400
            async with session.get(f"{server.url}/no/such/path") as resp:
                assert resp.status == 404
            async with session.request("TRACE", f"{server.url}/files/x") as resp:
                assert resp.status == 405
            async with session.get(f"{server.url}/metrics") as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"] == METRICS_CONTENT_TYPE
                text = await resp.text()
    finally:
        await server.close()

    ours = [line for line in text.splitlines() if f'service="{service}"' in line]
    assert any('route="/files/{channel}"' in line for line in ours)
    assert not any("secret-channel-name" in line or "/no/such/path" in line for line in ours)
    assert (
        sample(
            "wubloader_http_requests_total",
            service=service,
            route="/files/{channel}",
            method="GET",
            status_class="2xx",
        )
        == 2
    )
    assert (
        sample(
            "wubloader_http_requests_total", service=service, route="/bad", method="GET", status_class="4xx"
        )
        == 1
    )
    assert (
        sample(
            "wubloader_http_requests_total",
            service=service,
            route="unmatched",
            method="GET",
            status_class="4xx",
        )
        == 1
    )
    assert (
        sample(
            "wubloader_http_requests_total",
            service=service,
            route="unmatched",
            method="other",
            status_class="4xx",
        )
        == 1
    )
    assert (
        sample(
            "wubloader_http_request_duration_seconds_count",
            service=service,
            route="/files/{channel}",
            method="GET",
        )
        == 2
    )
    assert re.search(r"^wubloader_http_request_duration_seconds_bucket\{", text, re.MULTILINE)


async def test_two_services_with_the_same_routes_count_apart() -> None:
    """Each middleware keeps its own child metrics: equal routes of two services never mix."""
    first, second = unique_service(), unique_service()
    servers = [await start_app(make_app(name), "127.0.0.1", 0) for name in (first, second)]
    try:
        async with aiohttp.ClientSession() as session:
            for server, count in zip(servers, (3, 1), strict=True):
                for _ in range(count):
                    async with session.get(f"{server.url}/files/x") as resp:
                        assert resp.status == 200
    finally:
        for server in servers:
            await server.close()
    for name, count in ((first, 3), (second, 1)):
        labels = {"service": name, "route": "/files/{channel}", "method": "GET"}
        assert sample("wubloader_http_requests_total", **labels, status_class="2xx") == count
        assert sample("wubloader_http_request_duration_seconds_count", **labels) == count


async def test_standalone_metrics_server() -> None:
    server = await start_metrics_server("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/metrics") as resp:
            assert resp.status == 200
            assert "wubloader_task_restarts_total" in await resp.text()
    finally:
        await server.close()


async def test_serve_metrics_stops_with_the_stop_event() -> None:
    stop = asyncio.Event()
    listening: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()
    async with asyncio.TaskGroup() as group:
        group.create_task(serve_metrics("127.0.0.1", 0, stop, on_listening=listening.set_result))
        server = await asyncio.wait_for(listening, 60)
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/metrics") as resp:
            assert resp.status == 200
        stop.set()


def test_store_space_is_read_at_scrape_time(tmp_path) -> None:
    watch_store_space(tmp_path / "store")
    watch_store_space(tmp_path / "store")  # a second component of the same process: no error
    assert math.isnan(sample("wubloader_store_free_bytes"))  # not there yet: unknown, not 0
    (tmp_path / "store").mkdir()
    assert sample("wubloader_store_size_bytes") == shutil.disk_usage(tmp_path).total
    assert 0 < sample("wubloader_store_free_bytes") <= shutil.disk_usage(tmp_path).total
