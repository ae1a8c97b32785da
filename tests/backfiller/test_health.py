"""Retry backoff, mismatch memory, the peer breaker and the token bucket, on injected clocks."""

import asyncio

import pytest

from wubloader.backfiller.health import MismatchMemory, PeerBreaker, RetryMemory, backoff_delay
from wubloader.backfiller.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("failures", "delay"), [(0, 0.0), (1, 0.5), (2, 1.0), (3, 2.0), (7, 30.0), (99, 30.0)]
)
def test_backoff_delay(failures, delay):
    assert backoff_delay(failures, 0.5, 30.0) == delay


def test_retry_memory_backs_off_and_forgets_on_success():
    clock = Clock()
    memory = RetryMemory(initial=1.0, maximum=10.0, clock=clock, max_entries=2)
    assert memory.ready_at("f") == 0.0
    assert memory.failed("f") == 1 and memory.ready_at("f") == 1001.0
    assert memory.failed("f") == 2 and memory.ready_at("f") == 1002.0
    memory.succeeded("f")
    assert memory.failures("f") == 0
    for file_id in ("a", "b", "c"):
        memory.failed(file_id)
    assert len(memory) == 2 and memory.failures("a") == 0  # LRU eviction


def test_mismatch_memory_expires():
    clock = Clock()
    memory = MismatchMemory(ttl=60.0, clock=clock)
    memory.remember("p1", "f")
    assert memory.is_bad("p1", "f") and not memory.is_bad("p2", "f")
    clock.now += 60.0
    assert not memory.is_bad("p1", "f")


def test_breaker_opens_after_threshold_and_doubles():
    clock = Clock()
    breaker = PeerBreaker(threshold=2, initial=1.0, maximum=4.0, clock=clock)
    assert not breaker.failed("p") and breaker.available("p")
    assert breaker.failed("p") and not breaker.available("p") and breaker.open_until("p") == 1001.0
    clock.now += 1.0
    assert breaker.available("p")  # trial request allowed
    assert breaker.failed("p") and breaker.open_until("p") == 1003.0
    breaker.failed("p")
    breaker.failed("p")
    assert breaker.open_until("p") == 1005.0  # capped at maximum
    breaker.succeeded("p")
    assert breaker.available("p") and breaker.open_until("p") == 0.0
    breaker.failed("q")
    breaker.forget({"p"})
    assert breaker.open_until("q") == 0.0


async def test_token_bucket_sleeps_off_the_debt_beyond_the_burst():
    clock = Clock()
    bucket = TokenBucket(1000.0, burst=100.0, clock=clock)
    loop = asyncio.get_running_loop()
    await bucket.consume(100)  # the burst is free
    started = loop.time()
    await bucket.consume(50)  # 50 bytes of debt at 1000 B/s: sleeps 0.05 s (a lower bound, never flaky)
    assert loop.time() - started >= 0.049
