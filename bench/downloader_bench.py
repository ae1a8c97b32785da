"""Downloader benchmark: archive a fast-forwarded 1 h live source (1800 x 2 s segments) from 127.0.0.1.

Reports CPU seconds of the downloader process per archived hour and the median time from a segment's
publication to its final file (rename), against targets (≤ 36 CPU-s/hour, median ≤ 1 s) and against a
reference measured in the same run: the CPU a bare Python loop needs to hash, write and fsync the same
bytes. Fast-forwarding compresses an hour of playlist polls into a minute, so the polling cost is
measured separately on an idle stream and added back at the real-time rate (one poll per interval).

Then a day-long EVENT playlist (43,200 segments; 3,600 with --quick) is polled every second: CPU per
poll and the worst event-loop stall (target <= 50 ms), against the previous synchronous path measured
in the same run (see bench/downloader_window.py).

    .venv/bin/python bench/downloader_bench.py [--quick] [--speed 60] [--segments N] [--no-window]
A real-time run (no fast-forward): --speed 1 --segments 300 --no-window (10 minutes of wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from tests.harness.processes import free_port

from downloader_window import run_window
from proc import process_cpu
from results import record

REPO = Path(__file__).resolve().parent.parent
TARGET_CPU_PER_HOUR = 36.0
TARGET_MEDIAN_LATENCY = 1.0


def encode_source(directory: Path, seconds: int, size: str, bitrate: str) -> list[bytes]:
    """Encode `seconds` of 2 s segments once (cached) and return their bytes."""
    playlist = directory / "index.m3u8"
    if not playlist.exists():
        directory.mkdir(parents=True, exist_ok=True)
        cmd = [
            "ffmpeg", "-nostdin", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
            "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-bf", "0", "-c:a", "aac", "-b:a", "64k",
            "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
            "-hls_segment_filename", str(directory / "s%03d.ts"), str(playlist),
        ]  # fmt: skip
        subprocess.run(cmd, check=True, timeout=600)
    names = [line for line in playlist.read_text().splitlines() if line and not line.startswith("#")]
    return [(directory / name).read_bytes() for name in names]


class FastSource:
    """Publishes segment i at t0 + i * interval with PDT base + 2 i s; serves a window of recent ones."""

    def __init__(self, bodies: list[bytes], total: int, interval: float, window: int) -> None:
        self.bodies = bodies
        self.total = total
        self.interval = interval
        self.window = window
        self.base = datetime(2024, 5, 1, 10, 0, 0)
        self.t0 = 0.0
        self.paused_at: int | None = None
        self.publish_wall: dict[int, float] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    def published(self) -> int:
        if self.t0 == 0.0:
            return 0
        count = min(int((time.monotonic() - self.t0) / self.interval) + 1, self.total)
        return count if self.paused_at is None else min(count, self.paused_at)

    def start_time(self, index: int) -> datetime:
        return self.base + timedelta(seconds=2 * index)

    async def playlist(self, request: web.Request) -> web.Response:
        count = self.published()
        for i in range(len(self.publish_wall), count):  # publication time = first moment it is listable
            self.publish_wall[i] = self.t0_wall + (i * self.interval)
        first = max(count - self.window, 0)
        lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
        for i in range(first, count):
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{self.start_time(i).isoformat()}.000Z")
            lines.append("#EXTINF:2.000,")
            lines.append(f"s/{i}.ts")
        return web.Response(text="\n".join(lines) + "\n")

    async def segment(self, request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        return web.Response(body=self.bodies[index % len(self.bodies)], content_type="video/mp2t")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/index.m3u8", self.playlist)
        app.router.add_get("/s/{index}.ts", self.segment)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    def go(self) -> None:
        self.t0 = time.monotonic()
        self.t0_wall = time.time()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def stored_files(base: Path) -> list[Path]:
    return [p for p in base.rglob("*.ts") if "-temp-" not in p.name]


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def reference_cpu(bodies: list[bytes], count: int, directory: Path) -> float:
    """CPU for hash + write + fsync + rename of the same bytes in a bare loop (the floor)."""
    directory.mkdir(parents=True, exist_ok=True)
    started = time.process_time()
    for i in range(count):
        data = bodies[i % len(bodies)]
        temp = directory / f"{i}.tmp"
        with open(temp, "wb") as f:
            f.write(data)
            hashlib.sha256(data).digest()
            f.flush()
            os.fsync(f.fileno())
        os.rename(temp, directory / f"{i}.ts")
    return time.process_time() - started


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="wubloader-bench-"))
    cache = Path(tempfile.gettempdir()) / (
        "wubloader-bench-src-quick" if args.quick else "wubloader-bench-src"
    )
    seconds, size, bitrate = (6, "320x180", "300k") if args.quick else (60, "1280x720", "3M")
    total = args.segments or (60 if args.quick else 1800)
    bodies = encode_source(cache, seconds, size, bitrate)
    interval = 2.0 / args.speed
    source = FastSource(bodies, total, interval, window=max(int(10 / interval), 8))
    source.start()
    base = work / "store"
    cmd = [
        sys.executable, "-m", "wubloader", "downloader", "bench", "--source", f"http://127.0.0.1:{source.port}/index.m3u8",
        "--base-dir", str(base), "--poll-interval", str(args.poll_interval), "--log-level", "WARNING",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO)
    try:
        time.sleep(1.5)  # imports and start-up, not counted below
        cpu_idle_start, idle_start = process_cpu(proc.pid), time.monotonic()
        time.sleep(args.idle_seconds)  # idle: the playlist is empty, only polls cost CPU
        idle_cpu = process_cpu(proc.pid) - cpu_idle_start
        idle_polls = (time.monotonic() - idle_start) / args.poll_interval
        cpu_start = process_cpu(proc.pid)
        source.go()
        if not wait_until(lambda: len(stored_files(base)) >= total, total * interval + 120):
            print(f"only {len(stored_files(base))} of {total} segments stored", file=sys.stderr)
            return 1
        work_cpu = process_cpu(proc.pid) - cpu_start
        archived_hours = total * 2 / 3600
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        source.close()
    latencies = []
    for path in stored_files(base):
        index = int(
            (
                datetime.strptime(path.parent.name + path.name[:12], "%Y-%m-%dT%H%M:%S.%f") - source.base
            ).total_seconds()
            // 2
        )
        latencies.append(path.stat().st_ctime - source.publish_wall[index])
    per_poll = idle_cpu / idle_polls
    realtime_polls = archived_hours * 3600 / args.poll_interval
    cpu_per_hour = (
        work_cpu + per_poll * max(realtime_polls - total * interval / args.poll_interval, 0)
    ) / archived_hours
    ref = reference_cpu(bodies, total, work / "reference") / archived_hours
    size_mb = sum(len(bodies[i % len(bodies)]) for i in range(total)) / 1e6
    median = statistics.median(latencies)
    print(
        f"archived {total} segments ({archived_hours:.2f} h, {size_mb:.0f} MB, "
        f"{size_mb * 8 / (archived_hours * 3600):.2f} Mb/s) at {args.speed}x real time"
    )
    print(f"downloader CPU while archiving: {work_cpu:.2f} s; per idle poll: {per_poll * 1000:.2f} ms")
    print(
        f"CPU per archived hour (real-time polling added back): {cpu_per_hour:.2f} s "
        f"(target <= {TARGET_CPU_PER_HOUR:.0f}: {cpu_per_hour / TARGET_CPU_PER_HOUR:.2f}x of target)"
    )
    print(
        f"reference (bare hash+write+fsync loop): {ref:.2f} CPU-s/hour; downloader/reference = {cpu_per_hour / ref:.1f}x"
    )
    print(
        f"publish -> stored latency: median {median:.3f} s, p90 {statistics.quantiles(latencies, n=10)[-1]:.3f} s, "
        f"max {max(latencies):.3f} s (target median <= {TARGET_MEDIAN_LATENCY:.0f} s: {median / TARGET_MEDIAN_LATENCY:.2f}x)"
    )
    record("downloader CPU per archived hour", cpu_per_hour, ref, unit="CPU s",
           target=f"<= {TARGET_CPU_PER_HOUR:.0f} s", met=cpu_per_hour <= TARGET_CPU_PER_HOUR)  # fmt: skip
    record("downloader publish -> stored median", median, unit="s",
           target=f"<= {TARGET_MEDIAN_LATENCY:.0f} s", met=median <= TARGET_MEDIAN_LATENCY)  # fmt: skip
    if not args.no_window:
        segments, seconds, warmup = (3600, 6.0, 60.0) if args.quick else (43200, 30.0, 300.0)
        for line in run_window(work, free_port(), segments, seconds, warmup):
            print(line)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 minutes of small segments (smoke test)")
    parser.add_argument("--speed", type=float, default=60.0, help="fast-forward factor (default 60)")
    parser.add_argument("--poll-interval", type=float, default=1.0, help="downloader poll interval")
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="idle phase measuring poll cost")
    parser.add_argument(
        "--segments", type=int, default=0, help="2 s segments to archive (default 1800; 60 quick)"
    )
    parser.add_argument("--no-window", action="store_true", help="skip the day-long playlist part")
    args = parser.parse_args()
    if args.quick:
        args.speed = min(args.speed, 20.0)
        args.idle_seconds = min(args.idle_seconds, 3.0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
