"""Job-state gauges from the events table: rows per state, and how long rows sit in CLAIMED/FINALIZING.

Every cutter reports the same table, so dashboards and alerts take `max` over cutters. The time in a
state is counted from this cutter's first sighting of the row in it (the table keeps no state-change
time), so it is a lower bound that restarts when the cutter restarts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from prometheus_client import Gauge

from wubloader.db import job_states
from wubloader.db.errors import DatabaseError
from wubloader.db.schema import EventState

if TYPE_CHECKING:
    from collections.abc import Callable

    from wubloader.db.database import Database

logger = logging.getLogger(__name__)

WATCHED = (EventState.CLAIMED, EventState.FINALIZING)
EVENTS = Gauge("cutter_events", "Rows of the events table in each state (every cutter counts).", ["state"])
LONGEST_IN_STATE = Gauge(
    "cutter_longest_in_state_seconds",
    "How long the oldest row now in this state has been seen in it by this cutter (0 when none).",
    ["state"],
)


class JobStateGauges:
    """Refreshes EVENTS and LONGEST_IN_STATE every `interval` seconds from `database`."""

    def __init__(
        self, database: Database, *, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.database = database
        self.interval = interval
        self._clock = clock
        # (row id, state) → when first seen so; only rows now in a WATCHED state are kept.
        self._since: dict[tuple[str, EventState], float] = {}

    async def run(self) -> None:
        """Forever: one refresh, then sleep; a failed refresh is logged and retried."""
        while True:
            try:
                await self.refresh()
            except (DatabaseError, TimeoutError) as exc:
                logger.warning("job-state metrics refresh failed: %s", exc)
            await asyncio.sleep(self.interval)

    async def refresh(self) -> None:
        counts = await self.database.run(job_states.count_by_state)
        rows = await self.database.run(job_states.rows_in_states, WATCHED)
        for state, count in counts.items():
            EVENTS.labels(str(state)).set(count)
        for state, seconds in self.observe(rows).items():
            LONGEST_IN_STATE.labels(str(state)).set(seconds)

    def observe(self, rows: list[job_states.RowInState]) -> dict[EventState, float]:
        """Remember first sightings of `rows`, forget rows that left; the longest stay per state."""
        now = self._clock()
        current = {(row.id, row.state) for row in rows}
        self._since = {key: self._since.get(key, now) for key in current}
        longest = dict.fromkeys(WATCHED, 0.0)
        for (_, state), since in self._since.items():
            longest[state] = max(longest[state], now - since)
        return longest
