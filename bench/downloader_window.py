"""Polling a day-long EVENT playlist (43,200 x 2 s segments, long tokenised URIs) every second.

Measured in-process, so that the event loop can be watched: CPU per poll and the worst event-loop
stall (a 5 ms ticker's largest lateness; target <= 50 ms) for
  * today's downloader (incremental parse, off-loop parsing and file I/O, each segment handled
    once), against a store that already holds the window, as after a restart mid-stream; and
  * the previous synchronous path as the reference, in the same run: the whole playlist parsed,
    timed and passed through the 4,096-entry claims table on the loop at every poll (a lower bound
    of its cost: the re-claimed segments' store look-ups are not even performed).
The source runs in its own process and appends one segment every 2 s.

Used by `bench/downloader_bench.py`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

TARGET_STALL = 0.050
TOKEN = "t" * 120
BASE = datetime(2024, 5, 1, 0, 0, 0)


def event_playlist(count: int) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:EVENT"]
    for i in range(count):
        when = (BASE + timedelta(seconds=2 * i)).isoformat(timespec="milliseconds")
        lines += [f"#EXT-X-PROGRAM-DATE-TIME:{when}Z", "#EXTINF:2.000,", f"s/{i}.ts?token={TOKEN}"]
    return "\n".join(lines) + "\n"


def _serve(port: int, initial: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    """The source: `initial` segments listed at start, one more every 2 s (runs in a child process)."""
    started = time.monotonic()
    cache: dict[int, str] = {}

    async def playlist(request: web.Request) -> web.Response:
        count = initial + int((time.monotonic() - started) / 2)
        if count not in cache:
            cache.clear()
            cache[count] = event_playlist(count)
        return web.Response(text=cache[count])

    async def segment(request: web.Request) -> web.Response:
        return web.Response(body=b"\x47" * 188 * 200)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/event.m3u8", playlist)
        app.router.add_get("/s/{name}", segment)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


class StallWatch:
    """The worst lateness of a 5 ms ticker on the running loop, two ways.

    `worst`: wall-clock lateness (what a client of the loop waits; on a loaded machine it includes
    time the process was not scheduled at all). `worst_cpu`: CPU the loop's thread spent between
    two ticks, i.e. the longest stretch of work run *on* the loop, independent of machine load.
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_cpu = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - before - 0.005)
            self.worst_cpu = max(self.worst_cpu, time.thread_time() - cpu)

    def __enter__(self) -> StallWatch:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def prefill_store(base: Path, channel: str, count: int) -> None:
    """Empty files named like the window's stored segments (the downloader only checks names)."""
    from wubloader.store import SegmentType, segment_path

    for i in range(count):
        path = segment_path(
            base, channel, "source", BASE + timedelta(seconds=2 * i), "2.0", SegmentType.FULL, "x" * 43
        )
        if i % 1800 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


async def _old_poll(session: object, url: str, claims: object) -> None:
    """One poll of the previous path: fetch, parse everything, time everything, claim everything."""
    from wubloader.downloader.timeline import assign_starts
    from wubloader.hls.parser import parse_media_playlist
    from wubloader.runtime.http_client import fetch_bytes
    from wubloader.runtime.timeparse import now_utc
    from wubloader.store import format_duration

    body = await fetch_bytes(session, url, timeout=30, name="bench")  # type: ignore[arg-type]
    playlist = parse_media_playlist(body.decode(), url)
    timed = assign_starts(playlist.segments, {}, now_utc(), ad_ranges=playlist.ad_ranges).timed
    for item in timed:
        claims.try_claim((item.start, format_duration(item.segment.duration)), 1)  # type: ignore[attr-defined]


async def measure_old(url: str, seconds: float) -> tuple[float, StallWatch, int]:
    """(CPU s per poll, worst stall s, polls) for the previous synchronous path.

    CPU is measured over `seconds` without the stall ticker (whose own wake-ups cost CPU), the
    stall over the next `seconds` with it.
    """
    from wubloader.downloader.claims import Claims
    from wubloader.runtime.http_client import create_session

    claims = Claims()
    async with create_session() as session:
        cpu, polls = time.process_time(), 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await _old_poll(session, url, claims)
            polls += 1
            await asyncio.sleep(1.0)
        cpu = time.process_time() - cpu
        with StallWatch() as watch:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                await _old_poll(session, url, claims)
                await asyncio.sleep(1.0)
    return cpu / max(polls, 1), watch, polls


async def measure_new(url: str, base: Path, seconds: float, warmup: float) -> tuple[float, StallWatch, int]:
    """(CPU s per poll, worst stall s, polls) for today's downloader, after its first (warm-up) poll.

    As for `measure_old`: CPU over `seconds` without the ticker, then the stall over `seconds`.
    """
    from wubloader.downloader.config import DownloaderConfig
    from wubloader.downloader.manager import Downloader

    config = DownloaderConfig(channel="window", source=url, base_dir=base, poll_interval=1.0)
    downloader = Downloader(config)
    stop = asyncio.Event()
    task = asyncio.create_task(downloader.run(stop))
    # The first poll looks every listed segment up in the store (in threads): wait until that is done.
    deadline = time.monotonic() + warmup
    await asyncio.sleep(3)
    while len(asyncio.all_tasks()) > 20 and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    workers = downloader.workers["source"]
    cpu, polls_before = time.process_time(), _polls(workers)
    await asyncio.sleep(seconds)
    cpu, polls = time.process_time() - cpu, _polls(workers) - polls_before
    with StallWatch() as watch:
        await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 60)
    return cpu / max(polls, 1), watch, polls


def _polls(workers: list) -> int:
    return sum(w.polls for w in workers)


def run_window(work: Path, port: int, segments: int, seconds: float, warmup: float) -> list[str]:
    """Run both measurements against one source process; returns the report lines."""
    ready = multiprocessing.get_context("fork").Event()
    source = multiprocessing.get_context("fork").Process(
        target=_serve, args=(port, segments, ready), daemon=True
    )
    source.start()
    try:
        ready.wait(30)
        url = f"http://127.0.0.1:{port}/event.m3u8"
        prefill_store(work / "window-store", "window", segments)
        old = asyncio.run(measure_old(url, seconds))
        new = asyncio.run(measure_new(url, work / "window-store", seconds, warmup))
    finally:
        source.kill()
        source.join(10)
    size_mb = len(event_playlist(segments)) / 1e6
    return [
        f"{segments}-segment EVENT playlist ({size_mb:.1f} MB), polled every second:",
        _line("previous synchronous path", old),
        _line("downloader now", new),
        f"  worst stall (loop-thread CPU) vs target {TARGET_STALL * 1000:.0f} ms: now "
        f"{new[1].worst_cpu / TARGET_STALL:.2f}x of target, previous {old[1].worst_cpu / TARGET_STALL:.2f}x",
        f"  now/previous: CPU per poll {new[0] / old[0]:.3f}, worst stall (loop CPU) "
        f"{new[1].worst_cpu / max(old[1].worst_cpu, 1e-6):.3f}, worst stall (wall) {new[1].worst / max(old[1].worst, 1e-6):.3f}",
    ]


def _line(label: str, result: tuple[float, StallWatch, int]) -> str:
    cpu, watch, polls = result
    return (
        f"  {label}: {cpu * 1000:.1f} ms CPU per poll ({polls} polls); worst event-loop stall "
        f"{watch.worst_cpu * 1000:.1f} ms of loop-thread CPU, {watch.worst * 1000:.1f} ms wall clock"
    )
