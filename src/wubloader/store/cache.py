"""A least-recently-used map bounded by the bytes its values hold, for caches of store listings."""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Collection

K = TypeVar("K")
V = TypeVar("V")


# An ASCII str's size beside its characters (its header and terminating NUL).
ASCII_STR_BYTES = sys.getsizeof("")


def names_bytes(names: Collection[str]) -> int:
    """Memory held by a set (or list) of names and the strings themselves.

    Names are nearly always ASCII, whose size is their length plus a fixed header: one join then
    counts an hour's names (a fifth of asking each string its size)."""
    joined = "".join(names)
    if joined.isascii():
        return sys.getsizeof(names) + len(joined) + ASCII_STR_BYTES * len(names)
    return sys.getsizeof(names) + sum(map(sys.getsizeof, names))


class ByteBudgetLRU(Generic[K, V]):
    """Keeps values while the sum of their sizes (in bytes, as given to `put`) is within `max_bytes`.

    The least recently used entries are evicted first; a value bigger than the whole budget is not
    kept at all. Not thread-safe: callers that share one across threads hold their own lock.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value (now most recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, size: int) -> None:
        """Insert or replace `key`, then evict the oldest entries until the budget holds."""
        self.pop(key)
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.bytes -= evicted

    def pop(self, key: K) -> V | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self.bytes -= entry[1]
        return entry[0]
