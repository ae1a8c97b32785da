"""Which segments of one quality are being fetched or are done, shared by every worker of that quality.

Overlapping workers (a URL handover) see the same segments under different URLs; a claim makes sure
only one of them fetches each segment (the original fetched both and could store two `full`s).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    SegmentKey = tuple[datetime, str]

MAX_CLAIMS = 4096  # far more than any live window; the oldest entries are forgotten first


class ClaimState(enum.StrEnum):
    IN_FLIGHT = "in_flight"
    DONE = "done"


class Claims:
    """A bounded map segment key → (state, owner). Not thread-safe; used from the event loop only."""

    def __init__(self, max_entries: int = MAX_CLAIMS) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[SegmentKey, tuple[ClaimState, int]] = OrderedDict()

    def try_claim(self, key: SegmentKey, owner: int) -> bool:
        """Claim `key` for `owner` unless someone holds it or it is done."""
        if key in self._entries:
            return False
        self._entries[key] = (ClaimState.IN_FLIGHT, owner)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True

    def finish(self, key: SegmentKey) -> None:
        """Mark `key` done: no worker fetches it again."""
        if key in self._entries:
            self._entries[key] = (ClaimState.DONE, self._entries[key][1])

    def release(self, key: SegmentKey) -> None:
        """Give `key` back so another worker (another URL) may fetch it."""
        self._entries.pop(key, None)

    def state(self, key: SegmentKey) -> ClaimState | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def __len__(self) -> int:
        return len(self._entries)
