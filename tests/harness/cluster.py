"""A real wubloader cluster of OS processes on 127.0.0.1: one PostgreSQL, a live ffmpeg source, three nodes.

Topology (what issue-style "cluster" tests and a Prometheus pointed at it rely on):

* **source**: an ffmpeg `LiveEncoder` (1 s segments) served by `LiveSource` over HTTP with a sliding
  window of `WINDOW` segments, like a real origin: a node that is down longer than the window can only
  get the missed segments back from a peer.
* **A**: `wubloader node --channel chan --source URL --db URL --locations FILE --name A`: downloader,
  restreamer, backfiller, thrimshim + editor (`editor_port`) and a cutter, all in one process.
* **B**: `wubloader node --channel chan --source URL` (downloader, restreamer, backfiller) plus a separate
  `wubloader cutter --name B` process.
* **C**: `wubloader node` without a source (backfill only) plus `wubloader cutter --name C`.

Every node backfills from the two others (`--nodes`), with a short `--recent-cutoff` and pass interval so
a test sees replication in seconds, and each cutter publishes to its own `local` location
(`<node dir>/videos`). All three share one PostgreSQL database (`cluster.db_url`).

Ports, for a scraper or a test (all on 127.0.0.1, chosen free at start-up):

* `cluster.nodes[name].port`: the node's restreamer; `/metrics` there covers every component of the
  node process (downloader, backfiller, restreamer; and on A thrimshim and the cutter too).
* `cluster.nodes[name].cutter_metrics_port`: `/metrics` of B's and C's separate cutter process
  (None for A, whose cutter runs inside the node).
* `cluster.nodes["A"].editor_port`: thrimshim + editor (`/thrimshim/...`, the editing API).
* `cluster.scrape_targets()`: every `host:port` serving `/metrics`, by node and job, ready for a
  Prometheus `static_configs` list.

Use `start_cluster(root, server)` as a context manager, with any `PostgresServer` (tests/harness/postgres.py:
the session's `postgres_server` fixture, or one of its own from `start_postgres()` when a test crashes
it, as tests/cluster does); the cluster gets a fresh database on it, upgraded, with an editor token
(`cluster.token`) for the API. `kill(name)` SIGKILLs a node's process and `restart(name)` starts it
again with the same flags, store and ports (so a scraper's targets stay valid); `stop_source()`,
`remove_playlist()` and `start_source()` take the channel offline (ENDLIST, then 404) and back.
A Prometheus config for it:

    targets = cluster.scrape_targets()
    static_configs = [{"targets": [t], "labels": {"node": n, "job": job}}
                      for n, jobs in targets.items() for job, t in jobs.items()]

Processes log to `<root>/<node>/logs/`.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.downloader.support import EncoderProcess, encoded
from tests.harness.live_source import LiveSource
from tests.harness.postgres import PostgresServer
from tests.harness.processes import Component, free_port, start_component, stop_all, wait_until

CHANNEL = "chan"
QUALITY = "source"
WINDOW = 5  # segments the origin lists: shorter than any outage a test makes, so gaps need backfill
LOCATION = "local"
EDITOR_EMAIL = "editor@example.org"


@dataclass
class ClusterNode:
    """One node: its store, ports and processes (`node` always; `cutter` for B and C)."""

    name: str
    root: Path
    port: int
    archives: bool
    editor_port: int | None = None
    cutter_metrics_port: int | None = None
    node: Component | None = None
    cutter: Component | None = None

    @property
    def base(self) -> Path:
        return self.root / "store"

    @property
    def videos(self) -> Path:
        return self.root / "videos"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def editor_url(self) -> str:
        assert self.editor_port is not None, f"node {self.name} serves no editor"
        return f"http://127.0.0.1:{self.editor_port}"


@dataclass
class Cluster:
    root: Path
    db_url: str
    source: LiveSource
    encoder_dir: Path
    token: str
    nodes: dict[str, ClusterNode] = field(default_factory=dict)
    encoder: EncoderProcess | None = None

    def components(self) -> list[Component]:
        return [c for n in self.nodes.values() for c in (n.node, n.cutter) if c is not None]

    def scrape_targets(self) -> dict[str, dict[str, str]]:
        """`{node: {job: "127.0.0.1:PORT"}}` for every endpoint serving /metrics."""
        targets: dict[str, dict[str, str]] = {}
        for name, node in self.nodes.items():
            targets[name] = {"node": f"127.0.0.1:{node.port}"}
            if node.cutter_metrics_port is not None:
                targets[name]["cutter"] = f"127.0.0.1:{node.cutter_metrics_port}"
        return targets

    def kill(self, name: str) -> None:
        """SIGKILL the node's process (no drain, no clean-up: as a power cut would)."""
        node = self.nodes[name].node
        assert node is not None
        node.process.kill()
        node.process.wait()

    def restart(self, name: str) -> None:
        """Start the node again with the same flags, store and ports."""
        node = self.nodes[name]
        node.node = _start_node(self, node)

    def stop_source(self) -> str:
        """The channel goes offline: the encoder ends its playlist (ENDLIST, still served). Returns
        the ended playlist's text (every segment of that run)."""
        assert self.encoder is not None
        self.encoder.stop()
        self.encoder = None
        return (self.encoder_dir / "index.m3u8").read_text()

    def remove_playlist(self) -> None:
        """The offline channel's playlist disappears: the origin answers 404."""
        (self.encoder_dir / "index.m3u8").unlink()

    def start_source(self) -> None:
        """The channel comes back: a new encoder run (new segment numbers, a new playlist)."""
        assert self.encoder is None
        self.encoder = EncoderProcess(self.encoder_dir, segment_seconds=1)

    def encoded(self) -> int:
        """Segments the source has produced so far (it may run slower than real time under load)."""
        return encoded(self.encoder_dir)


def _peers(cluster: Cluster, node: ClusterNode) -> str:
    return ",".join(other.url for other in cluster.nodes.values() if other is not node)


def _node_args(cluster: Cluster, node: ClusterNode) -> list[str]:
    args = ["node", "--base-dir", str(node.base), "--port", str(node.port), "--nodes", _peers(cluster, node),
            "--self-url", node.url, "--recent-cutoff", "2", "--pass-interval", "1", "--drain-timeout", "5"]  # fmt: skip
    if node.archives:
        args += ["--channel", CHANNEL, "--source", cluster.source.media_url]
    if node.editor_port is not None:
        args += ["--db", cluster.db_url, "--locations", str(_locations_file(node)),
                 "--editor-port", str(node.editor_port), "--name", node.name]  # fmt: skip
    return args


def _start_node(cluster: Cluster, node: ClusterNode) -> Component:
    return start_component(_node_args(cluster, node), node.root / "logs", port=node.port)


def _locations_file(node: ClusterNode) -> Path:
    node.root.mkdir(parents=True, exist_ok=True)
    path = node.root / "locations.json"
    location = {
        "type": "local",
        "cut_type": "fast",
        "path": str(node.videos),
        "url_prefix": f"file://{node.videos}/",
    }
    path.write_text(json.dumps({LOCATION: location}))
    return path


def _start_cutter(cluster: Cluster, node: ClusterNode) -> Component:
    assert node.cutter_metrics_port is not None
    args = ["cutter", "--base-dir", str(node.base), "--db", cluster.db_url, "--locations", str(_locations_file(node)),
            "--name", node.name, "--poll-interval", "1", "--metrics-port", str(node.cutter_metrics_port)]  # fmt: skip
    return start_component(args, node.root / "logs", port=node.cutter_metrics_port)


def _cli(*args: str) -> str:
    """Run a `wubloader` command to completion; its stdout (fails with its output otherwise)."""
    result = subprocess.run(
        [sys.executable, "-m", "wubloader", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"wubloader {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


def prepare_database(db_url: str) -> str:
    """Upgrade the schema and issue an editor token (through the CLI, as an operator would); the token."""
    _cli("db", "upgrade", "--db", db_url)
    return _cli("token", "add", "--editor", "--db", db_url, EDITOR_EMAIL).strip().splitlines()[-1]


@contextlib.contextmanager
def start_cluster(root: Path, postgres: PostgresServer) -> Iterator[Cluster]:
    """Start the database, the three nodes, the cutters and then the encoder; stop everything after."""
    db_url = postgres.create_database()
    token = prepare_database(db_url)
    encoder_dir = root / "encoder"
    with LiveSource(encoder_dir, window=WINDOW) as source:
        cluster = Cluster(root=root, db_url=db_url, source=source, encoder_dir=encoder_dir, token=token)
        for name, archives in (("A", True), ("B", True), ("C", False)):
            cluster.nodes[name] = ClusterNode(
                name=name, root=root / name, port=free_port(), archives=archives
            )
        cluster.nodes["A"].editor_port = free_port()
        for name in ("B", "C"):
            cluster.nodes[name].cutter_metrics_port = free_port()
        try:
            for node in cluster.nodes.values():
                node.node = _start_node(cluster, node)
                if node.cutter_metrics_port is not None:
                    node.cutter = _start_cutter(cluster, node)
            # The encoder starts once every downloader polls, so A and B both see its first segment.
            cluster.start_source()
            wait_until(lambda: cluster.encoded() >= 2, 120, message="the live source's first segments")
            yield cluster
        finally:
            if cluster.encoder is not None:
                cluster.encoder.stop()
            stop_all(cluster.components())
            postgres.drop_database(db_url)
