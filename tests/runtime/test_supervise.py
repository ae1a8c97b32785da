"""Proves runtime/supervise.py: restart with backoff on crash, stop and cancellation end supervision."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from wubloader.runtime.errors import ListenError, RuntimeConfigError
from wubloader.runtime.supervise import Backoff, supervise

FAST = Backoff(initial=0.01, factor=2.0, maximum=0.05, reset_after=60.0)


def restarts(task: str) -> float:
    return REGISTRY.get_sample_value("wubloader_task_restarts_total", {"task": task}) or 0.0


async def test_crashing_job_is_restarted_until_it_returns(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"crash {len(runs)}")

    before = restarts("test-restart")  # the registry is process-global: count this test's restarts only
    with caplog.at_level(logging.ERROR, logger="wubloader.runtime.supervise"):
        await asyncio.wait_for(supervise("test-restart", job, backoff=FAST), 60)
    assert runs == [0, 1, 2]
    assert restarts("test-restart") - before == 2
    crashes = [r for r in caplog.records if "test-restart crashed" in r.getMessage()]
    assert len(crashes) == 2
    assert all(r.exc_info is not None for r in crashes)  # logged with the traceback


async def test_stop_during_backoff_ends_supervision() -> None:
    stop = asyncio.Event()
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1
        stop.set()
        raise RuntimeError("crash while stopping")

    slow = Backoff(initial=30.0, maximum=30.0)
    under_backoff = 20  # seconds: well under the 30 s backoff
    await asyncio.wait_for(supervise("test-stop", job, backoff=slow, stop=stop), under_backoff)
    assert runs == 1


async def test_stop_wakes_a_backoff_sleep() -> None:
    stop = asyncio.Event()

    crashed = asyncio.Event()

    async def job() -> None:
        crashed.set()
        raise RuntimeError("always")

    task = asyncio.create_task(
        supervise("test-wake", job, backoff=Backoff(initial=30.0, maximum=30.0), stop=stop)
    )
    await asyncio.wait_for(crashed.wait(), 60)  # the task now sleeps its 30 s backoff
    stop.set()
    await asyncio.wait_for(task, 20)  # well under the 30 s backoff


async def test_cancellation_propagates_and_is_not_a_crash() -> None:
    started = asyncio.Event()

    async def job() -> None:
        started.set()
        await asyncio.Event().wait()

    before = restarts("test-cancel")
    task = asyncio.create_task(supervise("test-cancel", job, backoff=FAST))
    await asyncio.wait_for(started.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert restarts("test-cancel") == before


async def test_long_healthy_run_resets_the_backoff() -> None:
    now = [0.0]
    delays: list[float] = []
    backoff = Backoff(initial=0.01, factor=10.0, maximum=100.0, reset_after=5.0)

    async def job() -> None:
        delays.append(now[0])
        if len(delays) == 2:
            now[0] += 10.0  # this run was "long": the next crash waits `initial` again
        if len(delays) < 4:
            raise RuntimeError("crash")

    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(supervise("test-reset", job, backoff=backoff, clock=lambda: now[0]), 60)
    # delays: 0.01 (1st), 0.01 after reset (2nd run was long), 0.1 (3rd) — never 1.0
    assert asyncio.get_running_loop().time() - started < 0.9


def test_backoff_delays() -> None:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=10.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.delay(10_000) == 10.0
    for bad in [dict(initial=-1.0), dict(initial=5.0, maximum=1.0), dict(factor=0.5), dict(reset_after=-1.0)]:
        with pytest.raises(RuntimeConfigError):
            Backoff(**bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [RuntimeConfigError("bad flag"), ListenError("port in use")])
async def test_fatal_errors_are_never_retried(error: Exception) -> None:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1
        raise error

    with pytest.raises(type(error)):
        await asyncio.wait_for(supervise("test-fatal", job, backoff=FAST), 60)
    assert runs == 1
