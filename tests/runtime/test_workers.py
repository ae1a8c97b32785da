"""WorkerPool: bounded daemon threads, shutdown that never waits on abandoned jobs; PoolResolver."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from wubloader.runtime.serve import run_component
from wubloader.runtime.workers import PoolResolver, WorkerPool


async def test_runs_jobs_with_at_most_its_threads():
    # A name no other test uses: daemon threads of other tests' pools may still be alive.
    pool = WorkerPool("bounded-check", 2)
    running = 0
    peak = 0
    lock = threading.Lock()

    def job(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return n * n

    results = await asyncio.gather(*(pool.run(job, n) for n in range(10)))
    assert results == [n * n for n in range(10)]
    assert peak <= 2
    names = {t.name for t in threading.enumerate() if t.name.startswith("bounded-check")}
    assert names <= {"bounded-check-1", "bounded-check-2"}
    pool.shutdown()


async def test_errors_reach_the_caller():
    pool = WorkerPool("test", 1)
    with pytest.raises(ZeroDivisionError):
        await pool.run(lambda: 1 / 0)
    pool.shutdown()


async def test_cancelled_await_drops_a_queued_job():
    pool = WorkerPool("test", 1)
    release = threading.Event()
    ran = threading.Event()
    blocker = asyncio.ensure_future(pool.run(release.wait, 30))
    queued = asyncio.ensure_future(pool.run(ran.set))
    await asyncio.sleep(0.05)
    queued.cancel()
    await asyncio.sleep(0.05)  # the cancellation reaches the pool's future in a loop callback
    release.set()
    assert await blocker is True
    await pool.run(lambda: None)  # the queue has moved past the cancelled job
    assert not ran.is_set()
    pool.shutdown()


def test_shutdown_cancels_queued_jobs_and_does_not_wait_for_running_ones():
    pool = WorkerPool("test", 1)
    release = threading.Event()
    running = pool.submit(release.wait, 30)
    queued = pool.submit(lambda: "never")
    deadline = time.monotonic() + 60  # bounds a hang only
    while pool.busy == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    pool.shutdown(wait=True)
    assert time.monotonic() - started < 25  # not the 30 s the running job takes (loose: a loaded machine)
    assert queued.cancelled()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(lambda: None)
    release.set()
    assert running.result(timeout=10) is True


def test_a_component_exits_while_default_pool_work_is_stuck():
    """asyncio.run waits for the default executor: a stuck job used to keep the process from exiting."""
    release = threading.Event()

    async def main(stop: asyncio.Event) -> None:
        asyncio.get_running_loop().run_in_executor(None, release.wait, 60)  # abandoned: nobody awaits it
        await asyncio.sleep(0.05)

    # Safety net: never leave the job stuck past the test (the old code would wait for this).
    safety = threading.Timer(120, release.set)
    safety.start()
    started = time.monotonic()
    try:
        assert run_component(main) == 0  # in the main thread: it installs signal handlers
        assert time.monotonic() - started < 60  # not the 120 s until the job is released
    finally:
        release.set()
        safety.cancel()


async def test_pool_resolver_resolves_in_its_pool():
    pool = WorkerPool("dns", 1)
    results = await PoolResolver(pool).resolve("localhost", 80, socket.AF_INET)
    assert {r["host"] for r in results} == {"127.0.0.1"}
    assert all(r["port"] == 80 and r["hostname"] == "localhost" for r in results)
    with pytest.raises(OSError):
        await PoolResolver(pool).resolve("name.invalid", 80, socket.AF_INET)
    pool.shutdown()
