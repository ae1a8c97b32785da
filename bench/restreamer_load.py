"""Load mode of bench/restreamer_bench.py: does a node keep archiving and serving peers under heavy use?

A real `wubloader node` archives a live HLS source (a real-time ffmpeg encoder behind a local HTTP
origin) into a store that also holds an hour of another channel to cut. While 50 clients keep asking
for long cuts of that hour (waiting `Retry-After` on 503) and 200 players poll playlists, a peer
measures a `/files` hour listing and a 2 s `/segments` fetch. Printed: the peer's median latency
idle and under load from the same run (the ratio should be ≤ 2), what the load clients got, and
whether the node's archive of the live stream has a hole anywhere in the load window.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from tests.downloader.support import EncoderProcess
from tests.harness.live_source import LiveSource
from tests.harness.media import encode_clip, store_clip
from tests.harness.processes import free_port

from wubloader.store.selection import SegmentIndex

CUT_START = datetime(2024, 5, 1, 0, 0, 0)
FMT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    clip_seconds: int
    repeat: int
    cut_clients: int
    players: int
    load_seconds: float
    samples: int


FULL = Scale(clip_seconds=60, repeat=60, cut_clients=50, players=200, load_seconds=30, samples=60)
QUICK = Scale(clip_seconds=10, repeat=3, cut_clients=5, players=20, load_seconds=3, samples=10)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            if predicate():
                return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


class Peer:
    """A replicating peer: one keep-alive connection, timing an hour listing and a segment fetch."""

    def __init__(self, port: int, listing: str, segment: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.paths = {"listing": listing, "segment": segment}

    def sample(self, rounds: int, pause: float) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {name: [] for name in self.paths}
        for _ in range(rounds):
            for name, path in self.paths.items():
                started = time.perf_counter()
                self.connection.request("GET", path)
                response = self.connection.getresponse()
                response.read()
                times[name].append(time.perf_counter() - started)
                if response.status != 200:
                    raise SystemExit(f"peer request {path} answered {response.status}")
            time.sleep(pause)
        return times


class CutClients:
    """Threads that keep downloading long cuts, honouring 503 + Retry-After."""

    def __init__(self, url: str, count: int, stop: threading.Event) -> None:
        self.url = url
        self.stop = stop
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]

    def _count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=120) as response:
                    while not self.stop.is_set() and (chunk := response.read(65536)):
                        self._count("bytes", len(chunk))
                    self._count("finished" if not self.stop.is_set() else "streaming at the end")
            except urllib.error.HTTPError as exc:
                exc.read()
                self._count(f"HTTP {exc.code}")
                self.stop.wait(float(exc.headers.get("Retry-After", "1")))
            except OSError:
                self._count("connection error")
                self.stop.wait(1)


async def _players(urls: list[str], stop: threading.Event, counts: Counter[str]) -> None:
    """Each player polls its playlist once a second (HLS players reload about every target duration)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def play(url: str) -> None:
            while not stop.is_set():
                try:
                    async with session.get(url) as response:
                        await response.read()
                        counts[f"HTTP {response.status}"] += 1
                except aiohttp.ClientError:
                    counts["connection error"] += 1
                await asyncio.sleep(1)

        await asyncio.gather(*(play(url) for url in urls))


def _medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def run_load(quick: bool) -> None:
    """Build, start, measure idle, load, measure again, check the archive; print the figures."""
    scale = QUICK if quick else FULL
    tmp = Path(tempfile.mkdtemp(prefix="restreamer-load-"))
    try:
        base = tmp / "store"
        clip = encode_clip(tmp / "clip", scale.clip_seconds)
        paths = store_clip(base, clip, CUT_START, channel="cutme", repeat=scale.repeat)
        print(
            f"store: {len(paths)} segments ({scale.clip_seconds * scale.repeat} s) of channel 'cutme' to cut"
        )
        with LiveSource(tmp / "encoder", window=8) as source, EncoderProcess(tmp / "encoder"):
            _measure(base, source.master_url, paths[len(paths) // 2], scale)
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


def _measure(base: Path, source: str, segment: Path, scale: Scale) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WUBLOADER_LOG_LEVEL": "WARNING"}
    args = ["node", "--base-dir", str(base), "--channel", "live", "--source", source, "--port", str(port)]
    node = subprocess.Popen([sys.executable, "-m", "wubloader", *args], env=env)
    try:
        _wait(lambda: _get(f"{url}/files/live/source"), 60, "the node to archive the live stream")
        hour = segment.parent.name
        peer = Peer(port, f"/files/cutme/source/{hour}", f"/segments/cutme/source/{hour}/{segment.name}")
        peer.sample(3, 0)  # warm the caches and the connection
        idle = _medians(peer.sample(scale.samples, 0.05))
        load_started = datetime.now(UTC).replace(tzinfo=None)
        loaded, cuts, players = _under_load(url, peer, scale)
        load_ended = datetime.now(UTC).replace(tzinfo=None)
        holes, archived = _archive_holes(base, load_started, load_ended)
    finally:
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(timeout=30)
        except subprocess.TimeoutExpired:
            node.kill()
    _report(idle, loaded, cuts, players, holes, archived, scale)


def _under_load(url: str, peer: Peer, scale: Scale) -> tuple[dict[str, float], Counter[str], Counter[str]]:
    stop = threading.Event()
    end = CUT_START + timedelta(seconds=scale.clip_seconds * scale.repeat)
    cut_url = f"{url}/cut/cutme/source.ts?range={CUT_START:{FMT}},{end:{FMT}}&type=fast"
    cuts = CutClients(cut_url, scale.cut_clients, stop)
    playlist = f"{url}/playlist/cutme/source.m3u8?start={CUT_START:{FMT}}&end={end:{FMT}}"
    urls = [playlist if i % 2 else f"{url}/playlist/live/source.m3u8" for i in range(scale.players)]
    player_counts: Counter[str] = Counter()
    players = threading.Thread(target=lambda: asyncio.run(_players(urls, stop, player_counts)), daemon=True)
    for thread in [*cuts.threads, players]:
        thread.start()
    try:
        time.sleep(min(2.0, scale.load_seconds / 3))  # every client connected and busy
        rounds = max(scale.samples, 1)
        loaded = _medians(peer.sample(rounds, scale.load_seconds / rounds))
    finally:
        stop.set()
        for thread in [*cuts.threads, players]:
            thread.join(timeout=30)
    return loaded, cuts.counts, player_counts


def _archive_holes(base: Path, start: datetime, end: datetime) -> tuple[int, int]:
    """Holes in the live channel over [start, end) once the downloader had time to store its end."""
    index = SegmentIndex(base, settle_seconds=0)

    def reached() -> bool:
        chain = index.best_segments("live", "source", start, end)
        return bool(chain) and chain[-1] is not None

    with contextlib.suppress(SystemExit):
        _wait(reached, 30, "the archive to reach the end of the load window")
    chain = index.best_segments("live", "source", start, end)
    return chain.count(None), sum(1 for seg in chain if seg is not None)


def _report(
    idle: dict[str, float],
    loaded: dict[str, float],
    cuts: Counter[str],
    players: Counter[str],
    holes: int,
    archived: int,
    scale: Scale,
) -> None:
    print(
        f"\n(c) node under load: {scale.cut_clients} clients cutting {scale.clip_seconds * scale.repeat // 60} min"
        f" (type=fast) and {scale.players} players polling playlists every 1 s, for {scale.load_seconds:g} s"
        f" (load average {os.getloadavg()[0]:.1f}):"
    )
    for name, label in (("listing", "peer /files hour listing"), ("segment", "peer 2 s /segments fetch")):
        ratio = loaded[name] / idle[name]
        verdict = "ok" if ratio <= 2 else "OVER 2x"
        print(
            f"  {label:<26} idle {idle[name]:7.2f} ms, under load {loaded[name]:7.2f} ms (medians): "
            f"ratio {ratio:.2f}x [{verdict}]"
        )
    print(f"  cut clients: {dict(sorted(cuts.items()))}")
    print(f"  players:     {dict(sorted(players.items()))}")
    print(f"  downloader:  {archived} segments archived in the load window, holes: {holes}")
