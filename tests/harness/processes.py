"""Run components as real subprocesses on free 127.0.0.1 ports and stop them by PID."""

from __future__ import annotations

import functools
import itertools
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Waits bound a hang; they never time behaviour. Under CPU load (2 cores, many processes) start-up, exit
# and ffmpeg work take many times longer than alone, so no wait in the harness gives up sooner than this.
MIN_WAIT = 120.0


def generous(timeout: float) -> float:
    """The deadline a wait really uses: the caller's figure, but never less than MIN_WAIT."""
    return max(timeout, MIN_WAIT)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports handed to servers come from below the kernel's ephemeral range, walked in order from a random
# start: a port the kernel gave us and we closed again could go to any client's next connect() before
# our server binds it, and a cursor never hands out the same port twice in a run (a parallel suite
# starts elsewhere). SystemRandom, because pytest-randomly reseeds `random` identically in every run.
_PORT_LOW = 10000
_PORT_HIGH = max(_PORT_LOW + 1000, _ephemeral_low())
_next_port = itertools.count(random.SystemRandom().randrange(_PORT_LOW, _PORT_HIGH))


def free_port() -> int:
    """A 127.0.0.1 TCP port nothing listens on, that no other free_port() call of this run returned."""
    for _ in range(_PORT_HIGH - _PORT_LOW):
        port = _PORT_LOW + (next(_next_port) - _PORT_LOW) % (_PORT_HIGH - _PORT_LOW)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free 127.0.0.1 port below the ephemeral range")


@dataclass
class Component:
    """A running `wubloader …` subprocess; its output goes to a log file for post-mortems."""

    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes]
    port: int | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_exit(self, timeout: float = 20.0, *, overstayed: str = "did not exit") -> int:
        """Wait for an exit already under way (e.g. caused by an earlier signal) without signalling
        again; kills the process and fails with `overstayed` if it outlasts `timeout`."""
        timeout = generous(timeout)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.args} {overstayed} within {timeout}s:\n{self.log()}") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the process and wait; returns its exit code (kills it if it overstays)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait_exit(timeout, overstayed=f"ignored signal {sig}")


def start_component(
    args: list[str],
    log_dir: Path,
    *,
    port: int | None = None,
    ready_path: str | None = "/metrics",
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    file_limit: int | None = None,
) -> Component:
    """Start `python -m wubloader ARGS`; if `ready_path` is given, wait until it answers on `port`.

    `file_limit` lowers the child's open-file limit (RLIMIT_NOFILE), e.g. to run it out of descriptors.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{args[0]}-{time.monotonic_ns()}.log"
    log = open(log_path, "wb")
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    limit = None if file_limit is None else functools.partial(_limit_files, file_limit)
    process = subprocess.Popen(
        [sys.executable, "-m", "wubloader", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=full_env,
        preexec_fn=limit,  # only setrlimit: safe between fork and exec
    )
    component = Component(args=args, log_path=log_path, process=process, port=port, _log=log)
    if port is not None and ready_path is not None:
        wait_for_http(component, ready_path, timeout)
    return component


def _limit_files(count: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


def wait_for_http(component: Component, path: str, timeout: float) -> None:
    timeout = generous(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if component.process.poll() is not None:
            raise AssertionError(
                f"{component.args} exited {component.process.returncode}:\n{component.log()}"
            )
        try:
            with urllib.request.urlopen(component.url + path, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    component.process.kill()
    raise AssertionError(f"{component.args} not ready after {timeout}s:\n{component.log()}")


def wait_until(predicate, timeout: float, interval: float = 0.1, message: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Poll `predicate` until it is true; fail with `message` after `generous(timeout)` seconds."""
    timeout = generous(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def stop_all(components: list[Component]) -> None:
    for component in components:
        if component.process.poll() is None:
            component.process.send_signal(signal.SIGKILL)
            component.process.wait()
