"""Fixtures for restreamer tests: the real app in-process (aiohttp TestServer) over real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from wubloader.restreamer.app import RestreamerConfig, create_app

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
