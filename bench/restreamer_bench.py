"""Restreamer benchmark: playlist and listing latency, and segment throughput vs nginx serving the same store.

Usage: .venv/bin/python bench/restreamer_bench.py [--quick] [--duration SECONDS]

Builds a 25 h store of 2 s segments (hard links of a few 0.8 MB blobs), starts `wubloader restreamer`
and a non-daemon nginx (generated config, temp dir, one worker, sendfile on) on free 127.0.0.1 ports,
and measures with wrk:
  (a) media playlist latency (median, warm) for 1 h and 24 h ranges, and an hour listing;
  (b) segment throughput with 1 and 8 keep-alive connections, ours and nginx's, as a ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.harness.store_builder import build_store  # noqa: E402

START = datetime(2024, 5, 1, 0, 0, 0)
SEGMENT_BYTES = 800_000
NGINX_CONFIG = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ video/mp2t ts; }}
    server {{
        listen 127.0.0.1:{port};
        location /segments/ {{ alias {base}/; }}
    }}
    include {tmp}/shipped.conf;
}}
"""
TEMPLATE = ROOT / "deploy" / "nginx" / "restreamer.conf.template"


def render_shipped_config(base: Path, port: int, upstream: str) -> str:
    """deploy/nginx/restreamer.conf.template with its `${WUBLOADER_*}` variables filled in (as envsubst)."""
    values = {"WUBLOADER_BASE_DIR": str(base), "WUBLOADER_NGINX_LISTEN": f"127.0.0.1:{port}"}
    values["WUBLOADER_RESTREAMER"] = upstream
    return re.sub(r"\$\{(WUBLOADER_[A-Z_]+)\}", lambda m: values[m[1]], TEMPLATE.read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def wrk(url: str, connections: int, seconds: float) -> dict[str, float]:
    """Run wrk; return requests/s, bytes/s and median latency in ms."""
    threads = min(connections, 2)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url],
        check=True, capture_output=True, text=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out)[1])  # type: ignore[index]
    transfer = re.search(r"Transfer/sec:\s+([0-9.]+)([KMG]?B)", out)
    scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[transfer[2]]  # type: ignore[index]
    p50 = re.search(r"50%\s+([0-9.]+)(us|ms|s)", out)
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50[2]]  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors:", out)
    if errors:
        raise SystemExit(f"wrk saw errors for {url}:\n{out}")
    return {"rps": rps, "bytes": float(transfer[1]) * scale, "p50_ms": float(p50[1]) * unit}  # type: ignore[index]


def build(base: Path, hours: int) -> str:
    blobs = [os.urandom(SEGMENT_BYTES) for _ in range(4)]
    paths = build_store(base, START, hours * 1800, contents=blobs)
    return str(paths[1].relative_to(base))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny store and 1 s runs (smoke test)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating throughput rounds (default 3)")
    args = parser.parse_args()
    hours = 2 if args.quick else 25
    seconds = 1.0 if args.quick else args.duration
    tmp = Path(tempfile.mkdtemp(prefix="restreamer-bench-"))
    tmp.chmod(0o755)  # nginx workers may run as another user when started by root
    processes: list[subprocess.Popen[bytes]] = []
    try:
        base = tmp / "store"
        t0 = time.monotonic()
        segment = build(base, hours)
        print(f"store: {hours} h of 2 s segments ({SEGMENT_BYTES} B) built in {time.monotonic() - t0:.1f} s")
        ours_port, nginx_port, shipped_port = free_port(), free_port(), free_port()
        env = {**os.environ, "WUBLOADER_LOG_LEVEL": "WARNING"}
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "wubloader",
                    "restreamer",
                    "--base-dir",
                    str(base),
                    "--port",
                    str(ours_port),
                ],
                env=env,
            )
        )
        (tmp / "nginx").mkdir()
        conf = tmp / "nginx" / "nginx.conf"
        conf.write_text(NGINX_CONFIG.format(tmp=tmp / "nginx", port=nginx_port, base=base))
        shipped_conf = render_shipped_config(base, shipped_port, f"127.0.0.1:{ours_port}")
        (tmp / "nginx" / "shipped.conf").write_text(shipped_conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        processes.append(subprocess.Popen([nginx, "-c", str(conf), "-e", str(tmp / "nginx" / "error.log")]))
        ours = f"http://127.0.0.1:{ours_port}"
        ref = f"http://127.0.0.1:{nginx_port}"
        shipped = f"http://127.0.0.1:{shipped_port}"
        quoted = segment.replace(":", "%3A")
        wait_http(f"{ours}/files")
        wait_http(f"{ref}/segments/{quoted}")
        wait_http(f"{shipped}/segments/{quoted}")
        servers = {"ours": ours, "nginx": ref, "shipped nginx config": shipped}
        report(servers, quoted, hours, seconds, 1 if args.quick else args.rounds)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report(servers: dict[str, str], segment: str, hours: int, seconds: float, rounds: int) -> None:
    ours = servers["ours"]
    fmt = "%Y-%m-%dT%H:%M:%S"
    one_h = f"start={START:{fmt}}&end={START + timedelta(hours=1):{fmt}}"
    long_h = min(24, hours - 1)
    long_q = f"start={START:{fmt}}&end={START + timedelta(hours=long_h):{fmt}}"
    latency = {
        "playlist 1 h": f"{ours}/playlist/chan/source.m3u8?{one_h}",
        f"playlist {long_h} h": f"{ours}/playlist/chan/source.m3u8?{long_q}",
        "hour listing": f"{ours}/files/chan/source/{START:%Y-%m-%dT%H}",
    }
    print(f"\n(a) latency, warm, 1 connection (wrk median over {seconds:g} s):")
    for name, url in latency.items():
        urllib.request.urlopen(url, timeout=30).read()  # warm the caches
        result = wrk(url, 1, seconds)
        print(f"  {name:<14} {result['p50_ms']:8.2f} ms   ({result['rps']:.0f} req/s)")
    print(f"\n(b) segment throughput ({SEGMENT_BYTES} B segment, keep-alive, {rounds} alternating rounds):")
    for connections in (1, 8):
        rps: dict[str, list[float]] = {name: [] for name in servers}
        for _ in range(rounds):
            for name, url in servers.items():
                rps[name].append(wrk(f"{url}/segments/{segment}", connections, seconds)["rps"])
        ratios = [mine / theirs for mine, theirs in zip(rps["ours"], rps["nginx"], strict=True)]
        shipped = [
            mine / theirs for mine, theirs in zip(rps["shipped nginx config"], rps["nginx"], strict=True)
        ]
        best = {name: max(values) for name, values in rps.items()}
        print(
            f"  {connections} conn: ours {best['ours']:6.0f} req/s ({best['ours'] * SEGMENT_BYTES / 1e6:5.0f} MB/s), "
            f"nginx {best['nginx']:6.0f} req/s ({best['nginx'] * SEGMENT_BYTES / 1e6:5.0f} MB/s) [best of rounds]\n"
            f"          ours/nginx ratio median {statistics.median(ratios):.2f}x "
            f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}); "
            f"shipped nginx config/nginx {statistics.median(shipped):.2f}x"
        )


if __name__ == "__main__":
    sys.exit(main())
