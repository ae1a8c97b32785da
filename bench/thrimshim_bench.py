"""Thrimshim latency over a big events table, next to the bare query measured in the same run.

    .venv/bin/python bench/thrimshim_bench.py [--quick] [--events 20000] [--rounds 20] [--posts 100] [--db URL]

Fills a database (default: a private PostgreSQL server started for the run, as the tests do) with
N events, half of them edited (ranges, transitions, tags). Then measures, median and p95:
- `list`: GET /thrimshim over HTTP (the real app on 127.0.0.1, aiohttp client) against the bare
  query: the same SELECT of the same rows through the same engine, no HTTP, no JSON.
- `post`: POST /thrimshim/{id} (token auth, validation, the guarded update) against the bare
  `save_edit` call in its own transaction.
Targets: list ≤ 3x the bare query and ≤ 150 ms on PostgreSQL; POST median ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import record
from tests.harness.postgres import start_postgres

from wubloader.db import events, roles, tokens
from wubloader.db.database import Database
from wubloader.db.event_records import EditInputs, Transition, VideoRange
from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.db.schema import events as events_table
from wubloader.runtime.serve import start_app
from wubloader.thrimshim.app import create_app
from wubloader.thrimshim.config import ThrimshimConfig

T0 = datetime(2024, 11, 10)
EDIT = EditInputs(
    upload_location="local",
    video_channel="desertbus",
    video_title="DB - A video",
    video_description="A description\n\nFooter",
    video_tags=("a", "b", "c"),
    video_ranges=(
        VideoRange(start=T0, end=T0 + timedelta(minutes=5)),
        VideoRange(start=T0 + timedelta(minutes=7), end=T0 + timedelta(minutes=9)),
    ),
    video_transitions=(Transition(type="fade", duration=1.0),),
    thumbnail_mode=ThumbnailMode.BARE,
    thumbnail_time=T0 + timedelta(minutes=1),
)

# The events page polls every 2 s: the list of 20,000 events should come back within this.
LIST_GOAL_MS = 150.0


def fill(database: Database, count: int) -> str:
    """N events (every other one EDITED) and an editor token; returns the token."""
    rows = []
    for i in range(count):
        row = {
            "id": f"ev{i:06d}",
            "sheet_name": f"Day {i % 7}",
            "event_start": T0 + timedelta(minutes=i),
            "event_end": T0 + timedelta(minutes=i + 30),
            "category": ("Chat", "Game", "Art")[i % 3],
            "description": f"Event number {i} with a description",
            "tags": ["tag", f"t{i % 10}"],
        }
        rows.append(row)
    with database.transaction() as conn:
        conn.execute(sa.insert(events_table), rows)
        for i in range(0, count, 2):
            events.save_edit(
                conn, f"ev{i:06d}", EDIT, state=EventState.EDITED, editor="bench", now=T0, version=None
            )
        roles.put_role(conn, roles.RoleRow(email="bench@example.org", name="bench", editor=True))
        return tokens.add_token(conn, "bench@example.org", now=T0)[0]


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def bare_list(database: Database, rounds: int) -> list[float]:
    query = sa.select(*[c for c in events_table.c if c.name != "thumbnail_image"]).order_by(
        events_table.c.event_start, events_table.c.id
    )
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        with database.transaction() as conn:
            conn.execute(query).fetchall()
        samples.append(time.perf_counter() - started)
    return samples


def bare_post(database: Database, count: int, posts: int) -> list[float]:
    samples = []
    for i in range(posts):
        started = time.perf_counter()
        with database.transaction() as conn:
            events.save_edit(
                conn,
                f"ev{(i * 2) % count:06d}",
                EDIT,
                state=EventState.EDITED,
                editor="bench",
                now=T0,
                version=None,
            )
        samples.append(time.perf_counter() - started)
    return samples


def post_body(event_id: str) -> dict:
    i = int(event_id[2:])
    return {
        "sheet_name": f"Day {i % 7}",
        "event_start": (T0 + timedelta(minutes=i)).isoformat(),
        "event_end": (T0 + timedelta(minutes=i + 30)).isoformat(),
        "category": ("Chat", "Game", "Art")[i % 3],
        "description": f"Event number {i} with a description",
        "notes": "",
        "tags": ["tag", f"t{i % 10}"],
        "upload_location": "local",
        "video_channel": "desertbus",
        "video_quality": "source",
        "video_ranges": [
            ["2024-11-10T00:00:00", "2024-11-10T00:05:00"],
            ["2024-11-10T00:07:00", "2024-11-10T00:09:00"],
        ],
        "video_transitions": [["fade", 1.0]],
        "video_title": "A video",
        "video_description": "A description",
        "video_tags": ["a", "b"],
        "thumbnail_mode": "BARE",
        "thumbnail_time": "2024-11-10T00:01:00",
        "public": True,
        "state": "EDITED",
    }


async def http_rounds(
    database: Database, token: str, count: int, rounds: int, posts: int
) -> tuple[list[float], list[float], list[float]]:
    config = ThrimshimConfig(
        db_url=database.url, upload_locations=("local",), title_header="DB", description_footer="Footer"
    )
    server = await start_app(create_app(config, database), "127.0.0.1", 0)
    list_samples, post_samples, poll_samples = [], [], []
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
            etag = ""
            for _ in range(rounds):
                started = time.perf_counter()
                async with session.get(server.url + "/thrimshim") as response:
                    body = await response.read()
                    assert response.status == 200, body[:200]
                    etag = response.headers["ETag"]
                list_samples.append(time.perf_counter() - started)
            for _ in range(rounds):  # the events page's poll: its copy is current
                started = time.perf_counter()
                async with session.get(
                    server.url + "/thrimshim", headers={"If-None-Match": etag}
                ) as response:
                    assert response.status == 304, response.status
                poll_samples.append(time.perf_counter() - started)
            for i in range(posts):
                event_id = f"ev{(i * 2) % count:06d}"
                started = time.perf_counter()
                async with session.post(
                    f"{server.url}/thrimshim/{event_id}", json=post_body(event_id)
                ) as response:
                    text = await response.text()
                    assert response.status == 201, text
                post_samples.append(time.perf_counter() - started)
    finally:
        await server.close()
    return list_samples, post_samples, poll_samples


def report(name: str, measured: list[float], reference: list[float], events: int) -> None:
    median, p95 = summary(measured)
    ref_median, ref_p95 = summary(reference)
    print(
        f"{name:<6} median {median * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms   bare median "
        f"{ref_median * 1000:7.1f} ms  p95 {ref_p95 * 1000:7.1f} ms   {median / ref_median:5.2f}x"
    )
    goal = LIST_GOAL_MS if name in ("list", "poll") else None
    record(f"thrimshim {name} ({events} events)", median * 1000, ref_median * 1000, unit="ms",
           target=f"<= {goal:g} ms" if goal else "", met=median * 1000 <= goal if goal else None)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for the smoke test")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--db", default=None, help="an EMPTY database URL (default: a private PostgreSQL)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.rounds, args.posts = 300, 5, 10
    server = None
    url = args.db
    if url is None:
        server = start_postgres()
        url = server.create_database()
    database = Database(url)
    try:
        database.upgrade()
        token = fill(database, args.events)
        print(
            f"{args.events} events on {database.engine.dialect.name}; {args.rounds} list rounds, {args.posts} posts"
        )
        bare = bare_list(database, args.rounds)
        listed, posted, polled = asyncio.run(
            http_rounds(database, token, args.events, args.rounds, args.posts)
        )
        report("list", listed, bare, args.events)
        report("poll", polled, bare, args.events)
        report("post", posted, bare_post(database, args.events, args.posts), args.events)
    finally:
        database.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
