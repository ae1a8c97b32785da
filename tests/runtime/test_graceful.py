"""Proves graceful shutdown end to end: a real server subprocess (graceful_server.py) receives SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

# Not imported: graceful_server.py installs signal handlers at import, which must not happen in pytest.
SCRIPT = Path(__file__).with_name("graceful_server.py")
SLOW_BYTES = 20 * 10_000  # graceful_server.SLOW_CHUNKS * len(SLOW_CHUNK)
EXIT_DEADLINE = 60.0  # bounds a hang only: exits crawl on a loaded machine


class ServerProcess:
    """graceful_server.py as a subprocess; its stdout and stderr are read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def wait_for_line(self, text: str, timeout: float = 60.0) -> str:
        """Read output until a line containing `text`; return that line."""
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError(f"exited before printing {text!r}:\n" + "\n".join(self.lines))
                line = raw.decode().rstrip("\n")
                self.lines.append(line)
                if text in line:
                    return line

    async def port(self) -> int:
        return int((await self.wait_for_line("PORT ")).split()[1])

    async def exit_code(self, timeout: float = EXIT_DEADLINE) -> int:
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            rest = await self.process.stdout.read()
            self.lines.extend(rest.decode().splitlines())
            return await self.process.wait()

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.process.send_signal(sig)


Spawn = Callable[..., Awaitable[ServerProcess]]


@pytest.fixture
async def spawn() -> AsyncIterator[Spawn]:
    started: list[ServerProcess] = []

    async def start(*args: str, block_stop_signals: bool = False) -> ServerProcess:
        # Blocking the stop signals across exec holds an early signal pending until the latch
        # installs its handler and unblocks them (see test_sigterm_right_after_exec_is_honoured).
        preexec = _block_stop_signals if block_stop_signals else None
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=preexec,
        )
        started.append(ServerProcess(process))
        return started[-1]

    yield start
    for server in started:
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()


def _block_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})


async def connection_refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    writer.close()
    return False


async def test_sigterm_lets_an_in_flight_stream_finish(spawn: Spawn) -> None:
    server = await spawn()
    port = await server.port()
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/slow") as resp:
        assert resp.status == 200
        body = await resp.content.readany()
        server.signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            while not await connection_refused(port):
                await asyncio.sleep(0.01)
        assert server.process.returncode is None  # refusing new connections while still streaming
        body += await resp.content.read()
    assert len(body) == SLOW_BYTES
    assert await server.exit_code() == 0
    assert any("received SIGTERM" in line for line in server.lines)


async def test_drain_timeout_bounds_the_wait(spawn: Spawn) -> None:
    server = await spawn("--drain-timeout", "0.3")
    port = await server.port()
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/slow") as resp:
        await resp.content.readany()
        server.signal(signal.SIGTERM)
        # The 2 s stream was cut at the drain deadline, not waited for (a finished one would not raise).
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.content.read()
    assert await server.exit_code() == 0


async def test_second_signal_stops_immediately(spawn: Spawn) -> None:
    server = await spawn()
    port = await server.port()
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/slow") as resp:
        await resp.content.readany()
        server.signal(signal.SIGTERM)
        await server.wait_for_line("received SIGTERM")
        server.signal(signal.SIGINT)
        # A graceful exit (after the 2 s stream) would be 0: the code alone proves it stopped at once.
        assert await server.exit_code() == 128 + signal.SIGINT


async def test_sigterm_during_start_up_is_honoured(spawn: Spawn) -> None:
    # A start-up long enough that the signal surely lands inside it, however slowly this test runs.
    server = await spawn("--startup-delay", "3")
    await server.wait_for_line("booting")
    await asyncio.sleep(0.05)  # now importing aiohttp / doing start-up work: not listening yet
    server.signal(signal.SIGTERM)
    assert await server.exit_code() == 0
    assert not any(line.startswith("PORT") for line in server.lines)


async def test_sigterm_right_after_exec_is_honoured(spawn: Spawn) -> None:
    """SIGTERM ~50 ms after process start, before Python has run any of our code.

    The signal is held pending (blocked across exec) so the test does not depend on how fast the
    interpreter starts; it proves the latch catches it and the process still exits 0 without serving.
    """
    server = await spawn(block_stop_signals=True)
    await asyncio.sleep(0.05)
    server.signal(signal.SIGTERM)
    assert await server.exit_code() == 0
    assert not any(line.startswith("PORT") for line in server.lines)
