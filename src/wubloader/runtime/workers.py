"""Thread pools for blocking work, one per kind of work, whose shutdown never waits on abandoned jobs.

Separate pools keep one kind of work from starving another: the downloader's and the replication
routes' file-system calls never queue behind playlist, cut or image work in the shared default
pool. `use_as_default_pool` makes a WorkerPool the loop's default executor, so that `asyncio.run`
(which shuts the default executor down and waits for it) cannot hang on a job a client abandoned.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import queue
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from aiohttp.abc import AbstractResolver, ResolveResult

if TYPE_CHECKING:
    from collections.abc import Callable

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger(__name__)

# The stdlib's default size for the loop's default pool.
DEFAULT_POOL_THREADS = min(32, (os.cpu_count() or 1) + 4)


@dataclass(slots=True, kw_only=True)
class _Job:
    future: concurrent.futures.Future[Any]
    call: Callable[[], Any] = field(repr=False)


class WorkerPool(concurrent.futures.ThreadPoolExecutor):
    """At most `threads` daemon threads running one kind of blocking work, in submission order.

    Differences from ThreadPoolExecutor (which it subclasses only so asyncio accepts it as the
    default executor): the threads are daemons, and `shutdown` cancels queued jobs and never waits
    for running ones, whatever `wait` says — a job stuck on a client that left must not keep the
    process alive. A job whose asyncio future was cancelled before it started is skipped.
    """

    def __init__(self, name: str, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"a worker pool needs at least one thread, got {threads}")
        super().__init__(max_workers=threads, thread_name_prefix=name)
        self.name = name
        self.threads = threads
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._started = 0
        self._running = 0
        self._pool_lock = threading.Lock()
        self._closed = False

    @property
    def busy(self) -> int:
        """Threads running a job right now."""
        return self._running

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[T]:
        """Queue `fn(*args, **kwargs)`; RuntimeError after `shutdown`."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._pool_lock:
            if self._closed:
                raise RuntimeError(f"worker pool {self.name!r} is shut down")
            self._jobs.put(_Job(future=future, call=functools.partial(fn, *args, **kwargs)))
            if self._started < self.threads:
                self._started += 1
                name = f"{self.name}-{self._started}"
                threading.Thread(target=self._work, name=name, daemon=True).start()
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            if not job.future.set_running_or_notify_cancel():
                continue
            with self._pool_lock:
                self._running += 1
            try:
                result = job.call()
            except BaseException as exc:  # delivered to whoever awaits the future
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)
            finally:
                with self._pool_lock:
                    self._running -= 1
            del job

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new jobs, cancel queued ones, let idle threads end; never wait for running jobs."""
        with self._pool_lock:
            if self._closed:
                return
            self._closed = True
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.future.cancel()
        if self._running:
            logger.info("%s pool: leaving %d abandoned job(s) behind at shutdown", self.name, self._running)
        for _ in range(self._started):
            self._jobs.put(None)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in this pool, awaited (cancelling the await drops a queued job)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self, functools.partial(fn, *args, **kwargs))


def use_as_default_pool(loop: asyncio.AbstractEventLoop, threads: int = DEFAULT_POOL_THREADS) -> WorkerPool:
    """Make a WorkerPool the loop's default executor (`asyncio.to_thread` and friends use it)."""
    pool = WorkerPool("default", threads)
    loop.set_default_executor(pool)
    return pool


class PoolResolver(AbstractResolver):
    """aiohttp DNS resolution in a given pool, so a busy default pool cannot stall a component's fetches.

    aiohttp's own threaded resolver uses the loop's default executor.
    """

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await self.pool.run(socket.getaddrinfo, host, port, family, socket.SOCK_STREAM)
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        results: list[ResolveResult] = []
        for info_family, _, proto, _, address in infos:
            if info_family not in (socket.AF_INET, socket.AF_INET6):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(address[0]),
                    port=int(address[1]),
                    family=info_family,
                    proto=proto,
                    flags=flags,
                )
            )
        if not results:
            raise OSError(socket.EAI_NONAME, f"no address for {host}")
        return results

    async def close(self) -> None:
        """Nothing to release: the pool belongs to its creator."""
