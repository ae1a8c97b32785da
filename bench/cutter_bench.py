"""Cutter latency and overhead on PostgreSQL, with a real `wubloader cutter` process.

    .venv/bin/python bench/cutter_bench.py [--quick] [--repeat N]

1. Edit → claim: an event is submitted (one transaction, which NOTIFYs) and the time until its row is
   CLAIMED is measured (median of 20), printed next to the polling interval the cutter would otherwise
   need to notice it.
2. A 10-minute smart cut published to `local` (claim → published, timed by the cutter itself) next to the bare
   cutting engine (prepare_cut + reading the stream in this process) for the same range, interleaved
   round by round in the same run; their ratio is the cutter's overhead (lease, upload to disk, DB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from bench.results import record
from tests.conftest import STORE_START
from tests.cutter.jobs import edit_for, submit
from tests.harness.media import encode_clip
from tests.harness.postgres import start_postgres
from tests.harness.processes import free_port
from tests.harness.store_builder import build_store

from wubloader.db.database import Database
from wubloader.db.schema import events
from wubloader.media.cut_engine import prepare_cut
from wubloader.media.cut_plan import CutRange, CutType
from wubloader.store import SegmentIndex

POLL_INTERVAL = 5.0


def state_of(database: Database, event_id: str) -> str | None:
    with database.transaction() as conn:
        return conn.execute(sa.select(events.c.state).where(events.c.id == event_id)).scalar()


def wait_for(
    database: Database, event_id: str, wanted: set[str], timeout: float = 600.0, poll: float = 0.002
) -> float:
    """perf_counter() when the row first shows a state in `wanted` (polled every `poll` s)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if state_of(database, event_id) in wanted:
            return time.perf_counter()
        time.sleep(poll)
    raise TimeoutError(f"{event_id} never reached {wanted}")


def claim_latencies(database: Database, count: int) -> list[float]:
    latencies = []
    for i in range(count):
        event_id = f"claim{i}"
        submit(database, event_id, edit_for(STORE_START, [(i % 50 + 1.0, i % 50 + 3.0)], title=event_id))
        submitted = time.perf_counter()
        claimed = wait_for(database, event_id, {"CLAIMED", "FINALIZING", "DONE"})
        latencies.append(claimed - submitted)
        wait_for(database, event_id, {"DONE"}, poll=0.05)
    return latencies


async def engine_seconds(index: SegmentIndex, cut_range: CutRange) -> float:
    began = time.perf_counter()
    chains = [index.best_segments("chan", "source", cut_range.start, cut_range.end)]
    stream = await prepare_cut(CutType.SMART, [cut_range], [], chains, allow_holes=False)
    async for _chunk in stream:
        pass
    return time.perf_counter() - began


def job_seconds_total(metrics_url: str) -> float:
    """The cutter's own claim → published time, summed over its jobs (its job-duration histogram)."""
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode()
    match = re.search(r'^cutter_job_seconds_sum\{upload_location="local"\} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def cutter_seconds(database: Database, event_id: str, seconds: float, metrics_url: str) -> float:
    """Measured inside the cutter, so this process's polling (slow here) does not steal its CPU."""
    before = job_seconds_total(metrics_url)
    submit(database, event_id, edit_for(STORE_START, [(1.3, 1.3 + seconds)], title=event_id))
    wait_for(database, event_id, {"DONE"}, poll=0.2)
    return job_seconds_total(metrics_url) - before


def start_cutter(work: Path, url: str, metrics_port: int) -> subprocess.Popen[bytes]:
    locations = work / "locations.json"
    locations.write_text(
        json.dumps({"local": {"type": "local", "cut_type": "smart", "path": str(work / "out")}})
    )
    args = ["cutter", "--base-dir", str(work / "store"), "--db", url, "--locations", str(locations),
            "--name", "bench", "--poll-interval", str(POLL_INTERVAL), "--metrics-port", str(metrics_port)]  # fmt: skip
    log = (work / "cutter.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "wubloader", *args], stdout=log, stderr=subprocess.STDOUT)


def run(work: Path, quick: bool, repeat: int) -> None:
    clip = encode_clip(work / "clip", 60 if not quick else 20)
    seconds = 600.0 if not quick else 60.0
    build_store(work / "store", STORE_START, int(seconds // 2) + 10, contents=clip.segments)
    server = start_postgres()
    cutter = None
    try:
        url = server.create_database()
        database = Database(url)
        database.upgrade()
        port = free_port()
        cutter = start_cutter(work, url, port)
        deadline = time.monotonic() + 60
        while b"listening for edited events" not in (work / "cutter.log").read_bytes():
            if time.monotonic() > deadline or cutter.poll() is not None:
                raise RuntimeError((work / "cutter.log").read_text())
            time.sleep(0.05)
        latencies = claim_latencies(database, 5 if quick else 20)
        index = SegmentIndex(work / "store")
        cut_range = CutRange(start=STORE_START + timedelta(seconds=1.3),
                             end=STORE_START + timedelta(seconds=1.3 + seconds))  # fmt: skip
        engine, published = [], []
        for round_ in range(repeat):
            engine.append(asyncio.run(engine_seconds(index, cut_range)))
            published.append(
                cutter_seconds(database, f"long{round_}", seconds, f"http://127.0.0.1:{port}/metrics")
            )
        report(latencies, engine, published, seconds)
        database.close()
    finally:
        if cutter is not None:
            cutter.terminate()
            cutter.wait(timeout=60)
        server.stop()


def report(latencies: list[float], engine: list[float], published: list[float], seconds: float) -> None:
    load = os.getloadavg()[0]
    print(f"cutter bench at {datetime.now():%H:%M:%S}, load average {load:.2f}")
    print(f"edit -> claim (NOTIFY)       median {statistics.median(latencies):.3f} s  "
          f"(max {max(latencies):.3f} s, n={len(latencies)}); polling interval {POLL_INTERVAL:.1f} s; "
          f"ratio {statistics.median(latencies) / POLL_INTERVAL:.3f}x")  # fmt: skip
    e, p = statistics.median(engine), statistics.median(published)
    print(f"{seconds / 60:.0f} min smart cut, bare engine   median {e:.3f} s (min {min(engine):.3f} s)")
    print(f"{seconds / 60:.0f} min smart cut, published     median {p:.3f} s (min {min(published):.3f} s)")
    print(f"published / engine                   {p / e:.2f}x")
    record("cutter edit -> claim", statistics.median(latencies), POLL_INTERVAL, unit="s")
    record(f"cutter {seconds / 60:.0f} min smart cut published", p, e, unit="s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 min cut, 5 claims, one round")
    parser.add_argument(
        "--repeat", type=int, default=None, help="rounds of the long cut (default 5, quick 1)"
    )
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 5)
    with tempfile.TemporaryDirectory(prefix="cutterbench-") as tmp:
        work = Path(tmp)
        if os.geteuid() == 0:
            os.chmod(work, 0o755)
        run(work, args.quick, repeat)


if __name__ == "__main__":
    main()
