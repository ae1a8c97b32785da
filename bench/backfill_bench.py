"""Backfill throughput and no-op pass time, against a reference raw HTTP copy measured in the same run.

    .venv/bin/python bench/backfill_bench.py [--quick] [--segments 1800] [--size 750000] [--concurrency 5]

1. A 1 h store of N x 2 s segments (distinct contents: one random block + the index, so every name's
   hash is real) is served by one real `wubloader restreamer` process. The reference downloads every
   segment from it with an aiohttp client at the same concurrency into /dev/null (the transfer floor);
   the backfiller then copies the same files into an empty store (fetch, hash-verify, fsync, rename).
2. A no-op pass over a complete 24 h store (small segments; local and peer identical): the first
   pass (diffs every hour) and a steady-state pass (listing caches warm).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from results import record
from wubloader.backfiller import Backfiller, BackfillerConfig, StaticNodeSource, peer_from_url
from wubloader.runtime.http_client import create_session
from wubloader.store import SegmentType, hash_bytes, segment_path
from wubloader.store.listing import list_hours, list_segment_files

START = datetime(2024, 5, 1, 10)


def build_distinct_store(
    base: Path, count: int, size: int, *, start: datetime = START, step: float = 2.0
) -> int:
    """`count` segments of `size` bytes, each a shared random block plus its index; returns total bytes."""
    block = os.urandom(size)
    total = 0
    for i in range(count):
        data = block[:-16] + i.to_bytes(16, "big")
        seg_start = start + timedelta(seconds=step * i)
        path = segment_path(base, "chan", "source", seg_start, repr(step), SegmentType.FULL, hash_bytes(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
    return total


def build_small_store(base: Path, hours: int, per_hour: int) -> None:
    step = 3600 / per_hour
    for i in range(hours * per_hour):
        seg_start = START + timedelta(seconds=step * i)
        data = f"{seg_start.isoformat()}".encode()
        path = segment_path(base, "chan", "source", seg_start, repr(step), SegmentType.FULL, hash_bytes(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def start_restreamer(base: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "wubloader", "restreamer", "--base-dir", str(base), "--port", str(port)],
        stdout=open(log, "wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/files", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"restreamer did not start:\n{log.read_text()}")


def segment_urls(base: Path, url: str) -> list[str]:
    urls = []
    for hour in list_hours(base, "chan", "source"):
        for name in list_segment_files(base / "chan" / "source" / hour):
            urls.append(f"{url}/segments/chan/source/{hour}/{name.replace(':', '%3A')}")
    return urls


async def reference_copy(urls: list[str], concurrency: int) -> tuple[float, int]:
    """Download every URL with `concurrency` workers, discarding the bytes: the transfer floor."""
    queue = list(reversed(urls))
    total = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal total
        while queue:
            async with session.get(queue.pop(), timeout=aiohttp.ClientTimeout(total=60)) as response:
                response.raise_for_status()
                async for chunk in response.content.iter_chunked(256 * 1024):
                    total += len(chunk)

    async with create_session(limit_per_host=concurrency + 2) as session:
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker(session))
        return time.perf_counter() - started, total


async def reference_disk_copy(urls: list[str], concurrency: int, dest: Path) -> float:
    """The same downloads written to files and fsync'd (no hash check, no rename): the disk floor."""
    queue = list(reversed(urls))
    dest.mkdir(parents=True)

    def store(index: int, chunks: list[bytes]) -> None:
        with open(dest / str(index), "wb") as file:
            file.write(b"".join(chunks))
            file.flush()
            os.fsync(file.fileno())

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            index = len(queue)
            async with session.get(queue.pop(), timeout=aiohttp.ClientTimeout(total=60)) as response:
                response.raise_for_status()
                chunks = [chunk async for chunk in response.content.iter_chunked(256 * 1024)]
            await asyncio.to_thread(store, index, chunks)

    async with create_session(limit_per_host=concurrency + 2) as session:
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker(session))
        return time.perf_counter() - started


async def backfill_once(local: Path, url: str, concurrency: int) -> tuple[float, object]:
    config = BackfillerConfig(base_dir=local, concurrency=concurrency)
    async with create_session(limit_per_host=concurrency + 2) as session:
        node = Backfiller(config, session=session, nodes=StaticNodeSource(peers=(peer_from_url(url),)))
        started = time.perf_counter()
        result = await node.run_once()
        return time.perf_counter() - started, result


async def noop_passes(local: Path, url: str, concurrency: int) -> tuple[float, float, object]:
    config = BackfillerConfig(base_dir=local, concurrency=concurrency)
    async with create_session(limit_per_host=concurrency + 2) as session:
        node = Backfiller(config, session=session, nodes=StaticNodeSource(peers=(peer_from_url(url),)))
        started = time.perf_counter()
        first = await node.run_once()
        first_time = time.perf_counter() - started
        started = time.perf_counter()
        steady = await node.run_once()
        steady_time = time.perf_counter() - started
        assert first.complete and steady.complete and first.copied == steady.copied == 0
        return first_time, steady_time, steady


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for the smoke test")
    parser.add_argument("--segments", type=int, default=1800)
    parser.add_argument("--size", type=int, default=750_000, help="bytes per segment (720p 2 s ~ 0.75 MB)")
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--noop-hours", type=int, default=24)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temp dir)")
    args = parser.parse_args()
    if args.quick:
        args.segments, args.size, args.noop_hours = 60, 200_000, 2
    work = Path(tempfile.mkdtemp(prefix="backfill-bench-", dir=args.dir))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    source, local = work / "source", work / "local"
    total = build_distinct_store(source, args.segments, args.size)
    os.sync()  # flush the source store now, so its write-back does not slow the timed runs
    print(f"source: {args.segments} segments, {total / 1e6:.0f} MB, concurrency {args.concurrency}")
    process, url = start_restreamer(source, work / "restreamer.log")
    try:
        urls = segment_urls(source, url)
        asyncio.run(reference_copy(urls, args.concurrency))  # warm-up: page cache, connections
        ref_times = []
        ref_seconds, ref_bytes = asyncio.run(reference_copy(urls, args.concurrency))
        ref_times.append(ref_seconds)
        seconds, result = asyncio.run(backfill_once(local, url, args.concurrency))
        shutil.rmtree(local)
        os.sync()
        disk = asyncio.run(reference_disk_copy(urls, args.concurrency, work / "disk"))
        shutil.rmtree(work / "disk")
        os.sync()
        ref_seconds, _ = asyncio.run(reference_copy(urls, args.concurrency))
        ref_times.append(ref_seconds)
        assert ref_bytes == total and result.complete and result.copied == args.segments, result
        reference = min(ref_times)
        mb = total / 1e6
        runs = ", ".join(f"{t:.2f}" for t in ref_times)
        print(
            f"reference raw HTTP copy to /dev/null: {reference:.2f} s, {mb / reference:.0f} MB/s (runs: {runs} s)"
        )
        print(f"reference raw HTTP copy to disk + fsync per file: {disk:.2f} s, {mb / disk:.0f} MB/s")
        print(f"backfill (fetch + verify + fsync + rename): {seconds:.2f} s, {mb / seconds:.0f} MB/s")
        print(f"ratio backfill/reference(/dev/null): {reference / seconds:.2f}x (target >= 0.6x, <= 3 s)")
        print(f"ratio backfill/reference(disk + fsync): {disk / seconds:.2f}x")
        record("backfill vs raw HTTP copy + fsync", mb / seconds, mb / disk, unit="MB/s",
               target=">= 0.9x", met=disk / seconds >= 0.9)  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=30)
    shutil.rmtree(source)
    peer, mine = work / "peer24", work / "local24"
    per_hour = 1800
    build_small_store(peer, args.noop_hours, per_hour)
    build_small_store(mine, args.noop_hours, per_hour)
    time.sleep(2.1)  # let the newest hour directory settle (mtime older than the listing cache's 2 s)
    process, url = start_restreamer(peer, work / "restreamer24.log")
    try:
        first, steady, result = asyncio.run(noop_passes(mine, url, args.concurrency))
    finally:
        process.terminate()
        process.wait(timeout=30)
    count = args.noop_hours * per_hour
    print(
        f"no-op pass over {args.noop_hours} h ({count} segments): first {first:.3f} s, "
        f"steady {steady:.3f} s ({result.hours_unchanged} hours unchanged; target <= 1 s)"
    )
    record(f"backfill no-op pass {args.noop_hours} h", steady, unit="s", target="<= 1 s", met=steady <= 1)


if __name__ == "__main__":
    main()
