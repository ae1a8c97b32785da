"""Serve an aiohttp app on 127.0.0.1 from a private event-loop thread, for synchronous tests and fakes."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class ThreadedApp:
    """One aiohttp app on a free 127.0.0.1 port, running in its own thread until `stop()`."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, app: web.Application) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(app), self._loop).result(10)

    def stop(self, timeout: float = 20.0) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self, app: web.Application) -> None:
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Handlers still stalling (injected faults) would otherwise die with the loop, noisily.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
