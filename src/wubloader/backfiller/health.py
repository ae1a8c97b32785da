"""Failure memory: per-file retry backoff, remembered hash mismatches, and a circuit-breaker per peer.

Pure state machines over an injected monotonic clock; the owner (the Backfiller) keeps one of each
for its lifetime, so a failing file or peer is retried with backoff across passes, not every pass.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


def backoff_delay(failures: int, initial: float, maximum: float) -> float:
    """`initial` x 2^(failures-1), capped at `maximum` (0 for no failures)."""
    if failures <= 0:
        return 0.0
    return min(maximum, initial * 2.0 ** min(failures - 1, 30))


@dataclass(slots=True)
class _FileState:
    failures: int
    retry_at: float


class RetryMemory:
    """Consecutive failures per file and when it may be tried again; bounded LRU of `max_entries`."""

    def __init__(
        self, *, initial: float, maximum: float, clock: Callable[[], float], max_entries: int = 100_000
    ):
        self.initial = initial
        self.maximum = maximum
        self._clock = clock
        self._max_entries = max_entries
        self._files: OrderedDict[str, _FileState] = OrderedDict()

    def failed(self, file_id: str) -> int:
        """Record a failed attempt; returns the number of consecutive failures so far."""
        state = self._files.pop(file_id, None)
        failures = 1 if state is None else state.failures + 1
        self._files[file_id] = _FileState(
            failures, self._clock() + backoff_delay(failures, self.initial, self.maximum)
        )
        while len(self._files) > self._max_entries:
            self._files.popitem(last=False)
        return failures

    def succeeded(self, file_id: str) -> None:
        self._files.pop(file_id, None)

    def failures(self, file_id: str) -> int:
        state = self._files.get(file_id)
        return 0 if state is None else state.failures

    def ready_at(self, file_id: str) -> float:
        """Monotonic time from which the file may be tried again (0 if it never failed)."""
        state = self._files.get(file_id)
        return 0.0 if state is None else state.retry_at

    def __len__(self) -> int:
        return len(self._files)


class MismatchMemory:
    """(peer, file) pairs whose bytes did not match their name; not refetched from that peer for `ttl` s."""

    def __init__(self, *, ttl: float, clock: Callable[[], float], max_entries: int = 100_000):
        self.ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._until: OrderedDict[tuple[str, str], float] = OrderedDict()

    def remember(self, peer: str, file_id: str) -> None:
        self._until.pop((peer, file_id), None)
        self._until[(peer, file_id)] = self._clock() + self.ttl
        while len(self._until) > self._max_entries:
            self._until.popitem(last=False)

    def is_bad(self, peer: str, file_id: str) -> bool:
        until = self._until.get((peer, file_id))
        if until is None:
            return False
        if self._clock() >= until:
            del self._until[(peer, file_id)]
            return False
        return True


@dataclass(slots=True)
class _PeerState:
    failures: int = 0
    open_until: float = 0.0


class PeerBreaker:
    """Stops using a peer after `threshold` consecutive failures, for a backoff that doubles each time.

    While open, `available()` is False; once the backoff has passed, the next request is a trial:
    a success closes the breaker, a failure opens it again for twice as long.
    """

    def __init__(self, *, threshold: int, initial: float, maximum: float, clock: Callable[[], float]):
        self.threshold = threshold
        self.initial = initial
        self.maximum = maximum
        self._clock = clock
        self._peers: dict[str, _PeerState] = {}

    def available(self, peer: str) -> bool:
        state = self._peers.get(peer)
        return state is None or self._clock() >= state.open_until

    def open_until(self, peer: str) -> float:
        state = self._peers.get(peer)
        return 0.0 if state is None else state.open_until

    def failed(self, peer: str) -> bool:
        """Record a failure; True if this (re)opened the breaker."""
        state = self._peers.setdefault(peer, _PeerState())
        state.failures += 1
        if state.failures < self.threshold:
            return False
        trips = state.failures - self.threshold + 1
        state.open_until = self._clock() + backoff_delay(trips, self.initial, self.maximum)
        return True

    def succeeded(self, peer: str) -> None:
        self._peers.pop(peer, None)

    def forget(self, keep: set[str]) -> None:
        """Drop state of peers no longer in the node list."""
        for peer in [p for p in self._peers if p not in keep]:
            del self._peers[peer]
