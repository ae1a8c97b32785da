"""Starts `wubloader` CLI processes by forking a pre-imported interpreter (a test helper, run as a script).

Importing the backfiller costs ~1 s of CPU per process; a test that starts and SIGKILLs it dozens of
times forks it from here instead. Each child is a real separate process running `wubloader.cli.main`
with its own arguments, exactly as `python -m wubloader` would after its imports.

Protocol, one line each way on stdin/stdout: `run ARG...` → the child's pid; `poll PID` → its exit
status, or `running`; `wait PID` → its exit status once it has exited (a SIGKILL reads as -9).
"""

from __future__ import annotations

import os
import shlex
import sys

import wubloader.backfiller.app  # noqa: F401  (the heavy imports, done once before any fork)
from wubloader.cli import main


def start(argv: list[str]) -> int:
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(null, 2)
        code = 1
        try:
            code = main(argv)
        finally:
            os._exit(code)
    return pid


def status(pid: int, block: bool) -> str:
    done, raw = os.waitpid(pid, 0 if block else os.WNOHANG)
    if done == 0:
        return "running"
    return str(os.waitstatus_to_exitcode(raw))


def serve() -> None:
    for line in sys.stdin:
        command, *rest = shlex.split(line)
        if command == "run":
            reply = str(start(rest))
        else:
            reply = status(int(rest[0]), block=command == "wait")
        print(reply, flush=True)


if __name__ == "__main__":
    serve()
