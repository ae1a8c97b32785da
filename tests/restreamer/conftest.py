"""Fixtures for restreamer tests: the real app in-process (aiohttp TestServer) over real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from wubloader.restreamer.app import RestreamerConfig, create_app
from wubloader.runtime.serve import RunningServer, start_app

# "Now" for in-process apps: far after every test store, so explicit ranges lie in the past.
FAR_FUTURE = datetime(2030, 1, 1)


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., object]]:
    """`await make_client(base, now=...)` → a TestClient of the real app; all closed at the end."""
    clients: list[TestClient] = []

    async def make(base: Path, *, now: Callable[[], datetime] = lambda: FAR_FUTURE, **limits) -> TestClient:
        app = create_app(RestreamerConfig(base_dir=base, **limits), now=now)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


class ServedClient:
    """TestClient's request methods against the app as `wubloader restreamer` serves it (through
    `start_app`, so segment GETs take the fast lane)."""

    def __init__(self, server: RunningServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.session.request(method, URL(self.server.url).join(URL(path)), **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> Any:
        return self.request("HEAD", path, **kwargs)


@pytest.fixture
async def make_served_client() -> AsyncIterator[Callable[..., object]]:
    """`await make_served_client(base, **limits)` → a ServedClient of the real app; all closed at the end."""
    opened: list[ServedClient] = []

    async def make(base: Path, *, now: Callable[[], datetime] = lambda: FAR_FUTURE, **limits) -> ServedClient:
        config = RestreamerConfig(base_dir=base, **limits)
        app = create_app(config, now=now)
        server = await start_app(app, "127.0.0.1", 0, drain_timeout=2.0, limits=config.connection_limits())
        client = ServedClient(server, aiohttp.ClientSession())
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.session.close()
        await client.server.close()


@pytest.fixture(params=["aiohttp test server", "served with the fast lane"])
def make_either_client(request, make_client, make_served_client) -> Callable[..., object]:
    """Both ways of serving the app: a test meant for `/segments` runs against each."""
    return make_client if request.param == "aiohttp test server" else make_served_client
