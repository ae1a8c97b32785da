"""Prometheus metrics shared by every component and their exposition at `/metrics`; labels stay bounded."""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import time
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from wubloader.runtime.health import add_health_routes

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from aiohttp.typedefs import Handler, Middleware

    from wubloader.runtime.health import Health
    from wubloader.runtime.serve import RunningServer

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
LOOPBACK = "127.0.0.1"  # where a standalone metrics server listens unless --metrics-host widens it
# Methods outside this set are counted as "other": the method is client-controlled text.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# The metric objects are created once, at import: prometheus_client's default registry refuses a
# second metric with the same name, so creating them per app or per test would fail. They are the
# only module-level state in runtime/.
HTTP_REQUESTS = Counter(
    "wubloader_http_requests_total",
    "HTTP requests served, by route template and status class.",
    ["service", "route", "method", "status_class"],
)
HTTP_REQUEST_DURATION = Histogram(
    "wubloader_http_request_duration_seconds",
    "Time until the handler returned (including bodies the handler streams itself).",
    ["service", "route", "method"],
    buckets=LATENCY_BUCKETS,
)
HTTP_CLIENT_REQUESTS = Counter(
    "wubloader_http_client_requests_total",
    "Outbound HTTP requests, by caller-chosen name and outcome.",
    ["name", "outcome"],
)
HTTP_CLIENT_DURATION = Histogram(
    "wubloader_http_client_request_duration_seconds",
    "Outbound HTTP request time, including reading the body.",
    ["name"],
    buckets=LATENCY_BUCKETS,
)
REFUSED_CONNECTIONS = Counter(
    "wubloader_http_refused_connections_total",
    "Connections answered 503 and closed at once because the server had its maximum open.",
    ["service"],
)
TASK_RESTARTS = Counter(
    "wubloader_task_restarts_total",
    "Crashes of supervised long-lived jobs, each followed by a restart after backoff.",
    ["task"],
)

# Registered by `watch_store_space` only: a process without a store (thrimshim, a cutter) must not
# export a free space of 0.
STORE_FREE_BYTES = Gauge(
    "wubloader_store_free_bytes",
    "Bytes an unprivileged writer may still use on the store's filesystem.",
    registry=None,
)
STORE_SIZE_BYTES = Gauge(
    "wubloader_store_size_bytes", "Size of the store's filesystem in bytes.", registry=None
)


def watch_store_space(base: Path) -> None:
    """Report `base`'s filesystem in the store gauges, read (one statvfs) at each scrape.

    A process has one store, so the gauges carry no label; NaN while `base` cannot be read.
    """

    def free() -> float:
        try:
            return float(shutil.disk_usage(base).free)
        except OSError:
            return math.nan

    def size() -> float:
        try:
            return float(shutil.disk_usage(base).total)
        except OSError:
            return math.nan

    STORE_FREE_BYTES.set_function(free)
    STORE_SIZE_BYTES.set_function(size)
    for gauge in (STORE_FREE_BYTES, STORE_SIZE_BYTES):
        with contextlib.suppress(ValueError):  # registered by an earlier call in this process
            REGISTRY.register(gauge)


# nginx's "client closed request": the status of the response an error middleware returns for a
# client that went away. It is never sent; the metrics count it as `aborted`.
CLIENT_CLOSED = 499


def status_class(status: int) -> str:
    """`404` → `4xx`; CLIENT_CLOSED → `aborted`."""
    return "aborted" if status == CLIENT_CLOSED else f"{status // 100}xx"


def route_label(request: web.Request) -> str:
    """The matched route's template (`/files/{channel}`), or `unmatched`; never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


class RequestRecorder:
    """One service's request counter and timer children, by label values.

    `labels()` validates its arguments and takes a lock on every call; a dict hit does not. The
    maps stay small: routes are the app's templates, methods and outcomes closed sets.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._counters: dict[tuple[str, str, str], Counter] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}

    def record(self, route: str, method: str, outcome: str, seconds: float) -> None:
        counter = self._counters.get((route, method, outcome))
        if counter is None:
            counter = HTTP_REQUESTS.labels(self.service, route, method, outcome)
            self._counters[route, method, outcome] = counter
        counter.inc()
        timer = self._timers.get((route, method))
        if timer is None:
            timer = self._timers[route, method] = HTTP_REQUEST_DURATION.labels(self.service, route, method)
        timer.observe(seconds)


def request_metrics_middleware(service: str, *, recorder: RequestRecorder | None = None) -> Middleware:
    """Middleware counting and timing requests for `service` (through `recorder`, when requests
    answered outside aiohttp are recorded by the same one).

    Put it first in `middlewares=[...]` so it sees the final status after other middlewares
    (error mapping) ran. Status class `aborted` means the client went away mid-request.
    """

    children = recorder or RequestRecorder(service)

    @web.middleware
    async def record_request_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = route_label(request)
        method = request.method if request.method in KNOWN_METHODS else "other"
        started = time.perf_counter()
        outcome = "5xx"  # what aiohttp answers when the handler raises anything unexpected
        try:
            response = await handler(request)
            outcome = status_class(response.status)
            return response
        except web.HTTPException as exc:
            outcome = status_class(exc.status)
            raise
        except (asyncio.CancelledError, ConnectionResetError):
            outcome = "aborted"
            raise
        finally:
            children.record(route, method, outcome, time.perf_counter() - started)

    return record_request_metrics


def metrics_response_body(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The Prometheus text exposition of `registry`; serve it with METRICS_CONTENT_TYPE."""
    return generate_latest(registry)


def add_metrics_route(app: web.Application, registry: CollectorRegistry = REGISTRY) -> None:
    """Add `GET /metrics` (and HEAD) serving `registry` to `app`."""

    async def handle_metrics(request: web.Request) -> web.Response:
        body = metrics_response_body(registry)
        return web.Response(body=body, headers={"Content-Type": METRICS_CONTENT_TYPE})

    app.router.add_get("/metrics", handle_metrics)


def _metrics_app(registry: CollectorRegistry, health: Health | None) -> web.Application:
    app = web.Application()
    add_metrics_route(app, registry)
    if health is not None:
        add_health_routes(app, health)
    return app


async def start_metrics_server(
    host: str, port: int, *, registry: CollectorRegistry = REGISTRY, health: Health | None = None
) -> RunningServer:
    """Start serving `/metrics` (and, with `health`, `/healthz` and `/readyz`) on host:port for a
    component without its own HTTP server.

    Returns the running server (`.port` is the real port when 0 was asked); `await server.close()`
    when stopping. Raises ListenError if the address cannot be bound.
    """
    from wubloader.runtime.serve import start_app  # serve uses these metrics: import it late

    return await start_app(_metrics_app(registry, health), host, port, drain_timeout=5.0)


async def serve_metrics(
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    registry: CollectorRegistry = REGISTRY,
    on_listening: Callable[[RunningServer], None] | None = None,
    health: Health | None = None,
) -> None:
    """Serve `/metrics` (and, with `health`, `/healthz` and `/readyz`) on host:port until `stop` is
    set (a task to put in the component's TaskGroup)."""
    from wubloader.runtime.serve import serve_app  # serve uses these metrics: import it late

    app = _metrics_app(registry, health)
    await serve_app(app, host, port, stop, drain_timeout=5.0, on_listening=on_listening)
