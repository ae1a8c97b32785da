"""Proves cutter/job_gauges.py (and db/job_states.py): rows per state and time in CLAIMED/FINALIZING."""

from __future__ import annotations

import sqlalchemy as sa
from prometheus_client import REGISTRY

from tests.db.states import put_in_state
from wubloader.cutter.job_gauges import JobStateGauges
from wubloader.db.schema import EventState
from wubloader.db.schema import events as events_table


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gauge(name: str, state: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"state": state})


async def test_counts_every_state_and_times_stuck_rows(database) -> None:
    with database.transaction() as conn:
        for event_id, state in [("a", "CLAIMED"), ("b", "CLAIMED"), ("c", "FINALIZING"), ("d", "DONE")]:
            put_in_state(conn, event_id, EventState(state))
    clock = Clock()
    gauges = JobStateGauges(database, interval=1.0, clock=clock)
    await gauges.refresh()
    expected = {"UNEDITED": 0, "EDITED": 0, "CLAIMED": 2, "FINALIZING": 1, "TRANSCODING": 0, "DONE": 1}
    for state, count in {**expected, "MODIFIED": 0}.items():
        assert gauge("cutter_events", state) == count, state
    assert gauge("cutter_longest_in_state_seconds", "CLAIMED") == 0.0

    clock.now += 90
    with database.transaction() as conn:  # `a` moves on to FINALIZING: its clock there starts now
        conn.execute(sa.update(events_table).where(events_table.c.id == "a").values(state="FINALIZING"))
    await gauges.refresh()
    assert gauge("cutter_longest_in_state_seconds", "CLAIMED") == 90.0  # b, seen since the first pass
    assert gauge("cutter_longest_in_state_seconds", "FINALIZING") == 90.0  # c

    clock.now += 10
    with database.transaction() as conn:
        conn.execute(sa.delete(events_table).where(events_table.c.id.in_(["b", "c"])))
    await gauges.refresh()
    assert gauge("cutter_longest_in_state_seconds", "CLAIMED") == 0.0
    assert gauge("cutter_longest_in_state_seconds", "FINALIZING") == 10.0  # a, seen there 10 s ago
    assert gauge("cutter_events", "CLAIMED") == 0
