"""Resident memory of `wubloader node --demo` holding an hour of archive, against its own idle figure.

    .venv/bin/python bench/node_memory_bench.py [--quick] [--seconds N]

Running the demo for a real hour is too slow for a benchmark, so the store is given an hour of
demo-like archive first: 1,800 two-second segments of channel `demo` (real H.264 + AAC, hard-linked
copies of a few encoded ones) ending at the current hour. The node then starts on that store, archives
its live demo stream for `--seconds` (default 120, `--quick` 30), and serves what a viewer and an
editor ask for: the hour's media playlist (twice), the master playlist and the editor's events
listing. Reported: the node process's RSS (VmRSS; ffmpeg children not included) before and after
(target <= 100 MiB), and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.proc import rss_mib  # noqa: E402
from bench.restreamer_bench import free_port, wait_http  # noqa: E402
from bench.results import record  # noqa: E402
from tests.harness.media import encode_clip  # noqa: E402
from tests.harness.store_builder import build_store  # noqa: E402

HOUR_SEGMENTS = 1800
FMT = "%Y-%m-%dT%H:%M:%S"


def fill_hour(base: Path, work: Path) -> datetime:
    """An hour of demo-like segments ending at the current hour; returns that hour's start."""
    clip = encode_clip(work / "clip", 6, size="640x360")
    now = datetime.now(UTC).replace(tzinfo=None)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    build_store(base, start, HOUR_SEGMENTS, contents=clip.segments, channel="demo", quality="source")
    return start


def fetch(url: str) -> int:
    with urllib.request.urlopen(url, timeout=120) as response:
        return len(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="archive for 30 s")
    parser.add_argument("--seconds", type=float, default=None, help="live archiving before measuring (120)")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else 30.0 if args.quick else 120.0
    with tempfile.TemporaryDirectory(prefix="node-memory-") as tmp:
        work = Path(tmp)
        base = work / "store"
        hour = fill_hour(base, work)
        port, editor = free_port(), free_port()
        command = [sys.executable, "-m", "wubloader", "node", "--demo", "--base-dir", str(base),
                   "--port", str(port), "--editor-port", str(editor)]  # fmt: skip
        env = {**os.environ, "WUBLOADER_LOG_LEVEL": "WARNING"}
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            wait_http(f"http://127.0.0.1:{port}/files", timeout=60)
            wait_http(f"http://127.0.0.1:{editor}/thrimshim", timeout=60)
            idle = rss_mib(process.pid)
            time.sleep(seconds)
            end = hour + timedelta(hours=1)
            playlist = f"http://127.0.0.1:{port}/playlist/demo/source.m3u8?start={hour:{FMT}}&end={end:{FMT}}"
            size = fetch(playlist) + fetch(playlist)
            fetch(f"http://127.0.0.1:{port}/playlist/demo.m3u8")
            fetch(f"http://127.0.0.1:{editor}/thrimshim")
            after, peak = rss_mib(process.pid), rss_mib(process.pid, "VmHWM")
        finally:
            process.terminate()
            process.wait(timeout=60)
    print(f"wubloader node --demo, an hour of archive + {seconds:.0f} s live, load {os.getloadavg()[0]:.1f}")
    print(f"  RSS at start                   {idle:7.1f} MiB")
    print(f"  RSS after the hour's playlists {after:7.1f} MiB (target <= 100 MiB; {size} B served)")
    print(f"  peak RSS                       {peak:7.1f} MiB")
    record(
        "node --demo RSS, an hour of archive", after, idle, unit="MiB", target="<= 100 MiB", met=after <= 100
    )
    record("node --demo peak RSS", peak, unit="MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
