"""A tiny HTTP service run as a subprocess by test_graceful.py: `/slow` streams for ~2 s, `/fast` answers at once.

Prints `booting` once stop signals are caught, then `PORT <n>` when listening, mirroring how a real
command starts: catch signals first, then import heavy modules and do start-up work.
"""

from __future__ import annotations

from wubloader.runtime.signals import catch_stop_signals

LATCH = catch_stop_signals()
print("booting", flush=True)

import argparse  # noqa: E402  (after the latch on purpose: signals must be caught before slow imports)
import asyncio  # noqa: E402
import sys  # noqa: E402

from aiohttp import web  # noqa: E402

from wubloader.runtime.logsetup import setup_logging  # noqa: E402
from wubloader.runtime.serve import RunningServer, run_component, serve_app  # noqa: E402

SLOW_CHUNKS = 20
SLOW_CHUNK = b"x" * 10_000
SLOW_INTERVAL = 0.1


async def slow(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = SLOW_CHUNKS * len(SLOW_CHUNK)
    await response.prepare(request)
    for _ in range(SLOW_CHUNKS):
        await response.write(SLOW_CHUNK)
        await asyncio.sleep(SLOW_INTERVAL)
    await response.write_eof()
    return response


async def fast(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def announce(server: RunningServer) -> None:
    print(f"PORT {server.port}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--startup-delay", type=float, default=0.0)
    parser.add_argument("--drain-timeout", type=float, default=10.0)
    args = parser.parse_args()
    setup_logging("INFO")

    async def run(stop: asyncio.Event) -> None:
        await asyncio.sleep(args.startup_delay)  # stands in for start-up work such as a store scan
        app = web.Application()
        app.router.add_get("/slow", slow)
        app.router.add_get("/fast", fast)
        await serve_app(app, "127.0.0.1", 0, stop, drain_timeout=args.drain_timeout, on_listening=announce)

    return run_component(run)


if __name__ == "__main__":
    sys.exit(main())
