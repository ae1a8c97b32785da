"""The first 24 h playlist of a freshly started restreamer, with a cold page cache, vs a bare listing.

    .venv/bin/python bench/cold_playlist_bench.py [--quick] [--repeat N]

Builds a 25 h store of 2 s segments on a private ext4 image mounted through a loop device, so that
unmounting and mounting it again empties the kernel's caches for that store alone (the machine is
shared: no global cache drop). Each round remounts, times the floor — a fresh Python process doing a
bare `os.stat` + `os.scandir` of the 26 hour directories the range touches — then remounts, starts `wubloader
restreamer`, waits until it answers, and times its first `GET` of the 24 h media playlist. Reported:
medians and their ratio (target <= 3x), the second (warm) request, and the restreamer's resident memory
after both (target <= 80 MiB). Without root or loop devices
the store stays in a temp directory and the measure is labelled "warm cache".
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.proc import process_cpu, rss_mib  # noqa: E402
from bench.restreamer_bench import START, free_port, wait_http  # noqa: E402
from bench.results import record  # noqa: E402
from tests.harness.store_builder import build_store  # noqa: E402

from wubloader.store import hour_name  # noqa: E402

HOURS = 25
IMAGE_BYTES = 1 << 30
FLOOR_SCRIPT = """
import os, sys, time
paths = sys.argv[1:]
began = time.perf_counter()
for path in paths:
    os.stat(path)
    with os.scandir(path) as entries:
        sorted(entry.name for entry in entries)
print(time.perf_counter() - began)
"""


class Mount:
    """A loop-mounted ext4 image whose caches `cold()` empties by unmounting and mounting it again."""

    def __init__(self, image: Path, point: Path) -> None:
        self.image, self.point = image, point

    @classmethod
    def make(cls, work: Path) -> Mount | None:
        if os.geteuid() != 0:
            return None
        image, point = work / "store.ext4", work / "mnt"
        point.mkdir()
        with image.open("wb") as out:
            out.truncate(IMAGE_BYTES)
        made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True)
        mounted = made.returncode == 0 and subprocess.run(
            ["mount", "-o", "loop", str(image), str(point)], capture_output=True
        ).returncode == 0  # fmt: skip
        return cls(image, point) if mounted else None

    def cold(self) -> None:
        subprocess.run(["umount", str(self.point)], check=True)
        subprocess.run(["mount", "-o", "loop", str(self.image), str(self.point)], check=True)

    def close(self) -> None:
        subprocess.run(["umount", str(self.point)], check=False)


def floor_seconds(base: Path) -> float:
    hours = [str(base / "chan" / "source" / hour_name(START + timedelta(hours=h))) for h in range(-1, HOURS)]
    out = subprocess.run(
        [sys.executable, "-c", FLOOR_SCRIPT, *hours], capture_output=True, text=True, check=True
    )
    return float(out.stdout)


def first_playlist(base: Path) -> tuple[float, float, int, tuple[float, float], float]:
    """(first, second request seconds, body bytes, (RSS, peak RSS) MiB after, CPU seconds of the
    first) of the 24 h playlist on a fresh restreamer."""
    port = free_port()
    env = {**os.environ, "WUBLOADER_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "wubloader", "restreamer", "--base-dir", str(base), "--port", str(port)]
    process = subprocess.Popen(command, env=env)
    try:
        wait_http(f"http://127.0.0.1:{port}/files")
        fmt = "%Y-%m-%dT%H:%M:%S"
        url = f"http://127.0.0.1:{port}/playlist/chan/source.m3u8?start={START:{fmt}}&end={START + timedelta(hours=24):{fmt}}"
        times, cpu = [], []
        for _ in range(2):
            began, cpu_before = time.perf_counter(), process_cpu(process.pid)
            with urllib.request.urlopen(url, timeout=120) as response:
                body = response.read()
            times.append(time.perf_counter() - began)
            cpu.append(process_cpu(process.pid) - cpu_before)
        memory = (rss_mib(process.pid), rss_mib(process.pid, "VmHWM"))
        return times[0], times[1], len(body), memory, cpu[0]
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one round")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory(prefix="cold-playlist-") as tmp:
        work = Path(tmp)
        mount = Mount.make(work)
        try:
            base = (mount.point if mount else work) / "store"
            build_store(
                base,
                START - timedelta(hours=1),
                (HOURS + 1) * 1800,
                contents=[b"G" * 188 * k for k in (1, 2, 3)],
            )
            time.sleep(2.1)  # directory mtimes older than the caches' settle time, as for past hours
            floors, firsts, seconds, rss, cpus = [], [], [], [], []
            for _ in range(rounds):
                if mount:
                    mount.cold()
                floors.append(floor_seconds(base))
                if mount:
                    mount.cold()
                first, second, size, resident, cpu = first_playlist(base)
                rss.append(resident)
                cpus.append(cpu)
                firsts.append(first)
                seconds.append(second)
        finally:
            if mount:
                mount.close()
    cache = "cold cache" if mount else "warm cache (no loop mount)"
    floor, first, second = (statistics.median(v) * 1e3 for v in (floors, firsts, seconds))
    print(
        f"24 h playlist ({size} B), fresh restreamer, {cache}, {rounds} round(s), load {os.getloadavg()[0]:.1f}"
    )
    print(f"  floor (stat + scandir of {HOURS + 1} hours) {floor:8.1f} ms")
    print(
        f"  first playlist                    {first:8.1f} ms   {first / floor:5.2f}x the floor (target <= 3x)"
    )
    print(f"  second playlist (warm)            {second:8.1f} ms   (target <= 50 ms)")
    record(
        f"24 h playlist, fresh process, {cache}",
        first,
        floor,
        unit="ms",
        target="<= 3x",
        met=first <= 3 * floor,
    )
    record("24 h playlist, second request", second, unit="ms", target="<= 50 ms", met=second <= 50)
    cpu_ms = statistics.median(cpus) * 1e3
    print(f"  restreamer CPU for the first      {cpu_ms:8.1f} ms   (load-independent; the floor is I/O)")
    record("24 h playlist, fresh process, restreamer CPU", cpu_ms, unit="CPU ms")
    memory, peak = max(r for r, _ in rss), max(p for _, p in rss)
    print(f"  restreamer RSS after them         {memory:8.1f} MiB (target <= 80 MiB)")
    print(f"  restreamer peak RSS               {peak:8.1f} MiB")
    record("restreamer RSS after a 24 h playlist", memory, unit="MiB", target="<= 80 MiB", met=memory <= 80)
    record("restreamer peak RSS during them", peak, unit="MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
