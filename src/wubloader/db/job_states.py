"""Read-only counts of the events table by state, for the cutter's job-state metrics and alerts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from wubloader.db.schema import EventState, events

if TYPE_CHECKING:
    from collections.abc import Collection


@dataclass(frozen=True, slots=True, kw_only=True)
class RowInState:
    """One events row's id and its current state."""

    id: str
    state: EventState


def count_by_state(connection: sa.Connection) -> dict[EventState, int]:
    """How many rows are in each state; every state is present (0 when none)."""
    counts = dict.fromkeys(EventState, 0)
    query = sa.select(events.c.state, sa.func.count()).group_by(events.c.state)
    for state, count in connection.execute(query):
        counts[EventState(state)] = int(count)
    return counts


def rows_in_states(connection: sa.Connection, states: Collection[EventState]) -> list[RowInState]:
    """The rows now in one of `states` (few: the jobs being cut, uploaded or finalized)."""
    query = sa.select(events.c.id, events.c.state).where(events.c.state.in_([str(s) for s in states]))
    return [RowInState(id=str(row.id), state=EventState(row.state)) for row in connection.execute(query)]
