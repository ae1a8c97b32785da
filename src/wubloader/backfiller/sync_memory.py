"""Which hours were last found in sync, and on what evidence, so unchanged hours are not diffed again."""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.store.naming import parse_hour

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from wubloader.backfiller.plan import HourKey

# (local hour version, {(peer, listing digest)}): equal signatures mean nothing changed on either side.
Signature = tuple[int | None, frozenset[tuple[str, str]]]


class SyncMemory:
    """Bounded LRU of hours found in sync: their signature and when (monotonic) that was seen.

    A **past** hour (ended `settle` ago) found in sync less than `relist` seconds ago is not even
    listed: past hours barely change (a late tombstone, a peer catching up), so re-listing them
    every pass costs requests for nothing; such changes arrive within `relist` instead.
    """

    def __init__(
        self, *, relist: float, settle: timedelta, clock: Callable[[], float], max_entries: int = 16384
    ) -> None:
        self.relist = relist
        self.settle = settle
        self._clock = clock
        self._max_entries = max_entries
        self._hours: OrderedDict[HourKey, tuple[Signature, float]] = OrderedDict()

    def recently_in_sync(self, key: HourKey, now: datetime) -> bool:
        """Whether the hour may be skipped without listing it (`now` is naive UTC)."""
        entry = self._hours.get(key)
        if entry is None or self.relist <= 0:
            return False
        fresh = self._clock() - entry[1] < self.relist
        return fresh and parse_hour(key.hour) + timedelta(hours=1) + self.settle < now

    def unchanged(self, key: HourKey, signature: Signature) -> bool:
        """Whether the hour was in sync with exactly this evidence (then it is remembered afresh)."""
        entry = self._hours.get(key)
        if entry is None or entry[0] != signature:
            return False
        self.remember(key, signature)
        return True

    def remember(self, key: HourKey, signature: Signature) -> None:
        self._hours[key] = (signature, self._clock())
        self._hours.move_to_end(key)
        while len(self._hours) > self._max_entries:
            self._hours.popitem(last=False)
