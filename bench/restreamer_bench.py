"""Restreamer benchmark: playlist and listing latency, and segment throughput vs nginx serving the same store.

Usage: .venv/bin/python bench/restreamer_bench.py [--quick] [--duration SECONDS] [--rounds N] [--segments-only]
       .venv/bin/python bench/restreamer_bench.py --load [--quick]   (c) alone, see bench/restreamer_load.py

Builds a 25 h store of 2 s segments (hard links of a few 0.8 MB blobs), starts `wubloader restreamer`
and a non-daemon nginx (generated config, temp dir, one worker, sendfile + tcp_nopush on, access log
off) on free 127.0.0.1 ports, and measures with wrk:
  (a) media playlist latency (median, warm) for 1 h and 24 h ranges, and an hour listing;
  (b) segment throughput with 1 and 8 keep-alive connections, ours and nginx's, as a ratio.

Throughput method (the machine is shared, so single runs are noisy): every server fetches the same
segment; each connection count starts with a discarded 1 s warm-up run per server (20 requests in --quick); then `--rounds`
rounds each run every server once, in an order that reverses every round (so slow drift hits all
alike). Reported: the median req/s per server and the median of the per-round ours/nginx ratios
(with their range). Server CPU time per request (user + system, from /proc, over all rounds) is
printed and recorded too, as seconds per 10,000 requests: it hardly depends on what else the
machine runs, so it is the figure to compare across runs and it shows where the gap is. Both
servers are one process (nginx: one worker) serving the same file with the same wrk settings.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.discard_client import fetch_discard  # noqa: E402
from bench.proc import process_cpu  # noqa: E402
from bench.results import record  # noqa: E402
from tests.harness.processes import free_port  # noqa: E402
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
        location /floor/ {{ alias {tmp}/floor/; }}
    }}
    include {tmp}/shipped.conf;
}}
"""
# Warm latency goals (wrk median), by measure name.
LATENCY_GOALS_MS = {"playlist 24 h": 50.0, "1 h hour listing": 2.0}
TEMPLATE = ROOT / "deploy" / "nginx" / "restreamer.conf.template"


def render_shipped_config(base: Path, port: int, upstream: str) -> str:
    """deploy/nginx/restreamer.conf.template with its `${WUBLOADER_*}` variables filled in (as envsubst)."""
    values = {"WUBLOADER_BASE_DIR": str(base), "WUBLOADER_NGINX_LISTEN": f"127.0.0.1:{port}"}
    values["WUBLOADER_RESTREAMER"] = upstream
    return re.sub(r"\$\{(WUBLOADER_[A-Z_]+)\}", lambda m: values[m[1]], TEMPLATE.read_text())


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
    """Run wrk; return requests/s, request count, bytes/s and median latency in ms."""
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
    requests = float(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    return {
        "rps": rps,
        "requests": requests,
        "bytes": float(transfer[1]) * scale,  # type: ignore[index]
        "p50_ms": float(p50[1]) * unit,  # type: ignore[index]
    }


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
    parser.add_argument(
        "--rounds", type=int, default=None, help="alternating throughput rounds (default 5; 1 with --quick)"
    )
    parser.add_argument(
        "--segments-only", action="store_true", help="only (b), over a 2 h store (quicker to build)"
    )
    parser.add_argument(
        "--load", action="store_true", help="only (c): a node archiving under 50 cuts + 200 players"
    )
    args = parser.parse_args()
    if args.load:
        from bench.restreamer_load import run_load

        run_load(args.quick)
        return 0
    hours = 2 if args.quick or args.segments_only else 25
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
                    "--max-media-rate",  # no cap on cut output: (a) times a rough cut against `cat`
                    "0",
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
        pids = {"ours": processes[0].pid, "nginx": child_pid(processes[1].pid)}
        pids["shipped nginx config"] = pids["nginx"]  # the same worker serves both nginx ports
        report(servers, pids, quoted, hours, args, base)
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


def report(
    servers: dict[str, str],
    pids: dict[str, int],
    segment: str,
    hours: int,
    options: argparse.Namespace,
    base: Path,
) -> None:
    seconds = 1.0 if options.quick else options.duration
    rounds = options.rounds or (1 if options.quick else 5)
    if options.segments_only:
        throughput(servers, pids, segment, seconds, rounds, quick=options.quick)
        return
    ours = servers["ours"]
    fmt = "%Y-%m-%dT%H:%M:%S"
    one_h = f"start={START:{fmt}}&end={START + timedelta(hours=1):{fmt}}"
    day = f"start={START:{fmt}}&end={START + timedelta(hours=24):{fmt}}"
    latency = {
        "playlist 1 h": f"{ours}/playlist/chan/source.m3u8?{one_h}",
        "playlist 24 h": f"{ours}/playlist/chan/source.m3u8?{day}",
        "1 h hour listing": f"{ours}/files/chan/source/{START:%Y-%m-%dT%H}",
    }
    if hours <= 24:  # the quick store is too short for a day
        del latency["playlist 24 h"]
    print(f"\n(a) latency, warm, 1 connection (wrk median over {seconds:g} s):")
    for name, url in latency.items():
        urllib.request.urlopen(url, timeout=30).read()  # warm the caches
        result = wrk(url, 1, seconds)
        print(f"  {name:<14} {result['p50_ms']:8.2f} ms   ({result['rps']:.0f} req/s)")
        goal = LATENCY_GOALS_MS.get(name)
        record(f"{name}, warm", result["p50_ms"], unit="ms", target=f"<= {goal:g} ms" if goal else "",
               met=result["p50_ms"] <= goal if goal else None)  # fmt: skip
    rough_cut_vs_cat(ours, servers["nginx"], base, rounds)
    throughput(servers, pids, segment, seconds, rounds, quick=options.quick)


def rough_cut_vs_cat(ours: str, nginx: str, base: Path, rounds: int) -> None:
    """A rough cut of the first hour against `cat` of the same files to /dev/null, alternating. The
    hour's files are first given pages of their own, as an archive's are (see `give_own_pages`).

    The cut is timed with a client that splices the body into /dev/null (no byte passes through user
    space at either end; `cat` makes one copy) and with `curl -o /dev/null` (one more copy than `cat`).
    The loopback floor is nginx sending the same bytes as one file to the same splicing client.
    """
    hour_dir = base / "chan" / "source" / f"{START:%Y-%m-%dT%H}"
    files = sorted(str(p) for p in hour_dir.iterdir())
    give_own_pages(files)
    floor_file = base.parent / "nginx" / "floor" / "hour.ts"
    floor_file.parent.mkdir()
    with floor_file.open("wb") as out:
        for path in files:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    os.sync()  # the new copies written back now, not by kernel threads during the timed runs
    fmt = "%Y-%m-%dT%H:%M:%S"
    url = f"{ours}/cut/chan/source.ts?type=rough&range={START:{fmt}},{START + timedelta(hours=1):{fmt}}"
    runs: dict[str, Callable[[], object]] = {
        "cat": lambda: subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True, timeout=600),
        "cut": lambda: fetch_discard(url),
        "nginx": lambda: fetch_discard(f"{nginx}/floor/hour.ts"),
        "curl": lambda: subprocess.run(["curl", "-sf", "-o", "/dev/null", url], check=True, timeout=600),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max(rounds, 2)):
        for name, run in runs.items():
            began = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - began)
    cat, cut, floor, curl = (statistics.median(times[name]) * 1e3 for name in runs)
    print(f"  rough cut 1 h   {cut:8.0f} ms (splicing client; curl {curl:.0f} ms); cat of the same "
          f"{len(files)} files {cat:.0f} ms: {cut / cat:.2f}x; nginx, the same bytes as one file: {floor:.0f} ms")  # fmt: skip
    record(
        "rough cut 1 h (HTTP, zero-copy client)",
        cut,
        cat,
        unit="ms",
        target="<= 1.5x cat",
        met=cut <= 1.5 * cat,
    )
    record("rough cut 1 h (HTTP, curl: one more copy)", curl, cat, unit="ms")
    record("rough cut 1 h vs nginx sending its bytes as one file", cut, floor, unit="ms")


def give_own_pages(files: list[str]) -> None:
    """Replace each hard link by a copy of its own. Linked, the hour is four 0.8 MB blobs that `cat`
    reads 450 times each from the CPU's cache; an archive's hour is 1.44 GB of distinct pages."""
    for path in files:
        data = Path(path).read_bytes()
        temp = f"{path}.copy"
        Path(temp).write_bytes(data)
        os.rename(temp, path)


def throughput(
    servers: dict[str, str], pids: dict[str, int], segment: str, seconds: float, rounds: int, *, quick: bool
) -> None:
    """(b): alternating wrk rounds per connection count; median req/s, median ratio, CPU per request."""
    print(
        f"\n(b) segment throughput ({SEGMENT_BYTES} B segment, keep-alive, one process each (nginx: "
        f"one worker), warm-up + {rounds} alternating rounds of {seconds:g} s, "
        f"load average {os.getloadavg()[0]:.1f}):"
    )
    for connections in (1, 8):
        order = list(servers)
        warm_up(servers, segment, connections, quick=quick)
        rps: dict[str, list[float]] = {name: [] for name in servers}
        cpu = dict.fromkeys(servers, 0.0)
        requests = dict.fromkeys(servers, 0.0)
        for _ in range(rounds):
            for name in order:
                before = process_cpu(pids[name])
                result = wrk(f"{servers[name]}/segments/{segment}", connections, seconds)
                cpu[name] += process_cpu(pids[name]) - before
                requests[name] += result["requests"]
                rps[name].append(result["rps"])
            order.reverse()
        report_throughput(connections, rps, {name: cpu[name] / max(requests[name], 1) for name in servers})


def warm_up(servers: dict[str, str], segment: str, connections: int, *, quick: bool) -> None:
    """A discarded 1 s wrk run per server (in --quick, 20 plain requests each): caches, buffers."""
    for url in servers.values():
        if quick:
            for _ in range(20):
                urllib.request.urlopen(f"{url}/segments/{segment}", timeout=30).read()
        else:
            wrk(f"{url}/segments/{segment}", connections, 1.0)


def report_throughput(connections: int, rps: dict[str, list[float]], cpu: dict[str, float]) -> None:
    """Print and record one connection count's medians, the ours/nginx ratio and CPU per request.

    CPU seconds per 10,000 requests (user + system, the figure getrusage would give) hardly depend
    on the machine's load, unlike req/s: they are the figure to compare across runs.
    """
    ratios = [mine / theirs for mine, theirs in zip(rps["ours"], rps["nginx"], strict=True)]
    shipped = [mine / theirs for mine, theirs in zip(rps["shipped nginx config"], rps["nginx"], strict=True)]
    median = {name: statistics.median(values) for name, values in rps.items()}
    ratio = statistics.median(ratios)
    per_10k = {name: seconds * 10_000 for name, seconds in cpu.items()}
    record(f"/segments {connections} conn", median["ours"], median["nginx"], unit="req/s", ratio=ratio,
           target=">= 0.8x nginx", met=ratio >= 0.8)  # fmt: skip
    record(f"/segments {connections} conn, server CPU per 10k requests", per_10k["ours"], per_10k["nginx"],
           unit="s")  # fmt: skip
    print(
        f"  {connections} conn: ours {median['ours']:6.0f} req/s ({median['ours'] * SEGMENT_BYTES / 1e6:5.0f} MB/s), "
        f"nginx {median['nginx']:6.0f} req/s ({median['nginx'] * SEGMENT_BYTES / 1e6:5.0f} MB/s) [medians]\n"
        f"          ours/nginx ratio median {ratio:.2f}x "
        f"(rounds {min(ratios):.2f}-{max(ratios):.2f}: {', '.join(f'{r:.2f}' for r in ratios)}); "
        f"shipped nginx config/nginx {statistics.median(shipped):.2f}x\n"
        f"          server CPU per request: ours {cpu['ours'] * 1e6:.0f} us, nginx {cpu['nginx'] * 1e6:.0f} us "
        f"({per_10k['ours']:.2f} s / {per_10k['nginx']:.2f} s per 10,000 requests: "
        f"{per_10k['ours'] / max(per_10k['nginx'], 1e-9):.2f}x)"
    )


def child_pid(parent: int, timeout: float = 10.0) -> int:
    """The first child process of `parent` (nginx's one worker), waiting for it to appear."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat_file.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == parent:
                return int(stat_file.parent.name)
        time.sleep(0.05)
    raise SystemExit(f"process {parent} has no child")


if __name__ == "__main__":
    sys.exit(main())
