"""Fixtures of the in-process backfiller tests: the shared client session and small real peers."""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.backfiller.peer_server import PeerServer
from wubloader.runtime.http_client import create_session


@pytest.fixture
async def session():
    async with create_session() as client:
        yield client


@pytest.fixture
async def peers() -> AsyncIterator[Callable[[Path], Awaitable[PeerServer]]]:
    """Start a PeerServer over a store directory; all are closed after the test."""
    started: list[PeerServer] = []

    async def start(base: Path) -> PeerServer:
        server = PeerServer(base)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()
