"""A cluster of real restreamer node processes on 127.0.0.1 and the operator commands run against it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.harness.processes import Component, free_port, start_component


def wubloader(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m wubloader ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "wubloader", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


class Cluster:
    """Node stores under `root` (`a`, `b`, …), each served by its own restreamer process."""

    def __init__(self, root: Path, names: str, components: list[Component]) -> None:
        self.root = root
        self.bases = {name: root / name for name in names}
        self.components = components
        self.nodes: dict[str, Component] = {}
        for base in self.bases.values():
            base.mkdir(parents=True, exist_ok=True)

    def start(self, *names: str) -> None:
        for name in names or tuple(self.bases):
            port = free_port()
            args = ["restreamer", "--base-dir", str(self.bases[name]), "--port", str(port)]
            node = start_component(args, self.root / "logs", port=port)
            self.components.append(node)
            self.nodes[name] = node

    def others(self, name: str) -> str:
        """The `--nodes` value for node `name`: every other node's URL."""
        return ",".join(node.url for other, node in self.nodes.items() if other != name)

    def backfill(self, name: str) -> subprocess.CompletedProcess[str]:
        done = wubloader("backfiller", "--base-dir", self.bases[name], "--nodes", self.others(name), "--once")
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    def backfill_all(self) -> None:
        for name in self.bases:
            self.backfill(name)


def file_sizes(base: Path) -> dict[str, int]:
    """Every file under `base` (hidden ones included) → its size."""
    return {str(p.relative_to(base)): p.stat().st_size for p in base.rglob("*") if p.is_file()}
