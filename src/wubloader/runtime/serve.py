"""Running a component until SIGTERM/SIGINT; serving aiohttp apps that drain in-flight requests on stop."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.runtime.connections import CappedSite, ConnectionLimits, count_open
from wubloader.runtime.errors import ListenError, RuntimeConfigError
from wubloader.runtime.fast_lane import LANE, FastLane
from wubloader.runtime.signals import STOP_SIGNALS, SignalLatch
from wubloader.runtime.workers import use_as_default_pool

if TYPE_CHECKING:
    import signal
    from collections.abc import Awaitable, Callable

    Main = Callable[[asyncio.Event], Awaitable[int | None]]

logger = logging.getLogger(__name__)

DEFAULT_DRAIN_TIMEOUT = 20.0
# After a forced stop (second signal, or the owning TaskGroup cancelling), give the server this long
# to close its sockets; in-flight responses are cut.
FORCED_CLOSE_GRACE = 1.0
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG_ERROR = 2
DEFAULT_LIMITS = ConnectionLimits(cancel_abandoned=False)


class _Stopper:
    """Signal handler: the first signal requests a graceful stop, the second cancels `main` outright."""

    def __init__(self, stop: asyncio.Event, task: asyncio.Future[int | None]) -> None:
        self.stop = stop
        self.task = task
        self.forced_by: signal.Signals | None = None

    def __call__(self, sig: signal.Signals) -> None:
        if not self.stop.is_set():
            logger.info("received %s: stopping gracefully (send it again to stop immediately)", sig.name)
            self.stop.set()
        elif self.forced_by is None:
            logger.warning("received %s again: stopping immediately", sig.name)
            self.forced_by = sig
            self.task.cancel()


async def run_until_stopped(main: Main, *, latch: SignalLatch | None = None) -> int:
    """Run `main(stop)` with SIGTERM/SIGINT setting `stop`; return the process exit code.

    Signal handlers are installed before `main` runs any start-up work, and a signal remembered by
    `latch` (default: the installed one, see `signals.catch_stop_signals`) is replayed, so a stop
    requested during start-up is honoured: `main` must check `stop` once it is ready (`serve_app`
    does). A second signal cancels `main`. Returns `main`'s int result, 0 when it returns None, or
    128+signal after a forced stop. Exceptions from `main` propagate. Must run in the main thread.
    The loop's default executor becomes a WorkerPool: the exit never waits for running blocking jobs.
    """
    loop = asyncio.get_running_loop()
    # Blocking work abandoned by clients that left must not hold up the exit (see workers.py).
    use_as_default_pool(loop)
    latch = latch or SignalLatch.current()
    stop = asyncio.Event()
    task = asyncio.ensure_future(main(stop))
    stopper = _Stopper(stop, task)
    # Install before looking at the latch: a signal arriving in between then reaches `stopper`.
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stopper, sig)
    try:
        if latch is not None and latch.received is not None:
            stopper(latch.received)
        try:
            result = await task
        except asyncio.CancelledError:
            if stopper.forced_by is None:
                raise
        if stopper.forced_by is not None:
            return 128 + stopper.forced_by
        return EXIT_OK if result is None else result
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


def run_component(main: Main, *, latch: SignalLatch | None = None) -> int:
    """Synchronous entry point for a CLI subcommand: run `main(stop)` on a fresh event loop.

    Returns the exit code: 0 after a graceful stop (or `main`'s own int), 2 for a RuntimeConfigError,
    1 for any other error, 128+signal after a forced stop. RuntimeConfigError and ListenError (also
    when a TaskGroup wrapped them) are logged as one clear line, anything else with its traceback.
    """
    freeze_start_up_objects()
    try:
        code = asyncio.run(run_until_stopped(main, latch=latch))
    except KeyboardInterrupt:  # SIGINT before any handler was installed
        return 130
    except Exception as exc:
        expected = _expected_error(exc)
        if expected is None:
            logger.exception("stopped by an unexpected error")
            return EXIT_ERROR
        logger.error("%s", expected)
        return EXIT_CONFIG_ERROR if isinstance(expected, RuntimeConfigError) else EXIT_ERROR
    logger.info("stopped (exit code %d)", code)
    return code


def freeze_start_up_objects() -> None:
    """Take every object alive now (modules, classes, functions: ~43,000 in the restreamer) out of the
    garbage collector's view for good, after collecting what is already garbage.

    They live as long as the process, yet each full collection would walk them all again, holding
    the GIL for 15-20 ms on the way; frozen, a full collection walks only what came after.
    """
    gc.collect()
    gc.freeze()


def _expected_error(exc: BaseException) -> RuntimeConfigError | ListenError | None:
    """The operator-facing error behind `exc`, unwrapping TaskGroup exception groups of one."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc if isinstance(exc, RuntimeConfigError | ListenError) else None


def _http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class RunningServer:
    """An aiohttp app accepting connections; `close()` stops accepting and drains in-flight requests.

    `lane` is the app's fast lane (holding the connections it has not handed to aiohttp), if any.
    """

    def __init__(self, runner: web.AppRunner, host: str, port: int, lane: FastLane | None = None) -> None:
        self._runner = runner
        self.host = host
        self.port = port
        self.url = _http_url(host, port)
        self.lane = lane

    def open_connections(self) -> int:
        """Connections open now: aiohttp's and those the fast lane holds."""
        return count_open(self._runner.server, self.lane)

    async def close(self, *, grace: float | None = None) -> None:
        """Stop accepting, wait up to the drain timeout for in-flight requests, cancel the rest, close.

        With `grace`, give up after that many seconds (used when the stop is forced).
        """
        if grace is None:
            await self._runner.cleanup()
            return
        try:
            async with asyncio.timeout(grace):
                await self._runner.cleanup()
        except TimeoutError:
            logger.warning("%s did not close within %.1f s; abandoning open connections", self.url, grace)


async def start_app(
    app: web.Application,
    host: str,
    port: int,
    *,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    service: str = "http",
) -> RunningServer:
    """Start serving `app` on host:port (0 = any free port) and log `listening on http://HOST:PORT`.

    `drain_timeout` bounds how long `close()` waits for in-flight requests, including long streamed
    responses. `limits` caps open connections, idle time and the time a peer may leave an answer
    unread (see ConnectionLimits; the default caps all three but never cancels a handler whose
    client left); `service` labels refusal metrics.
    Raises ListenError if the address cannot be bound.
    """
    runner = web.AppRunner(
        app,
        shutdown_timeout=drain_timeout,
        handler_cancellation=limits.cancel_abandoned,
        keepalive_timeout=limits.idle_timeout,
    )
    lane = _fast_lane(app, runner, limits, drain_timeout)
    await runner.setup()
    site = CappedSite(
        runner,
        host,
        port,
        cap=limits.connection_cap(),
        service=service,
        send_timeout=limits.send_timeout,
        lane=lane,
    )
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ListenError(f"cannot listen on {_http_url(host, port)}: {exc.strerror or exc}") from exc
    bound_port = runner.addresses[0][1]
    server = RunningServer(runner, host, bound_port, lane)
    logger.info("listening on %s", server.url)
    return server


def _fast_lane(
    app: web.Application, runner: web.AppRunner, limits: ConnectionLimits, drain_timeout: float
) -> FastLane | None:
    """The app's fast lane, if it has one; call before `runner.setup()` (which freezes the app's
    shutdown hooks). Declined connections go to the runner's aiohttp server."""
    lane = app.get(LANE)
    if lane is None:
        return None

    def app_protocol() -> asyncio.Protocol:
        assert runner.server is not None  # connections only arrive after setup
        return runner.server()

    door = FastLane(lane, app_protocol, idle_timeout=limits.idle_timeout, drain_timeout=drain_timeout)
    app.on_shutdown.append(door.shutdown)
    return door


async def serve_app(
    app: web.Application,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    on_listening: Callable[[RunningServer], None] | None = None,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    service: str = "http",
) -> None:
    """Serve `app` on host:port until `stop` is set, then drain gracefully and return.

    If `stop` is already set (a signal during start-up), nothing is bound. Once `stop` is set, the
    listening socket closes at once (new connections are refused), idle keep-alive connections
    close, and in-flight requests get up to `drain_timeout` seconds to finish before being
    cancelled. `on_listening` receives the running server (e.g. to learn the port when 0 was
    asked). If this coroutine is cancelled, the server closes within FORCED_CLOSE_GRACE seconds.
    `limits` and `service` are as for `start_app`. Raises ListenError if the address cannot be bound.
    """
    if stop.is_set():
        logger.info("stop requested during start-up; not listening on %s", _http_url(host, port))
        return
    server = await start_app(app, host, port, drain_timeout=drain_timeout, limits=limits, service=service)
    try:
        if on_listening is not None:
            on_listening(server)
        await stop.wait()
    except BaseException:  # cancelled (forced stop) or on_listening failed: no full drain
        await server.close(grace=FORCED_CLOSE_GRACE)
        raise
    logger.info("stopping %s: draining in-flight requests (up to %.0f s)", server.url, drain_timeout)
    await server.close()
    logger.info("stopped serving %s", server.url)
