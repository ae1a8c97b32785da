"""Every service's `/healthz` and `/readyz`, asked of the real `wubloader` command on its own port
(restreamer, thrimshim, node) or beside `/metrics` on `--metrics-port` (the other components)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.store_builder import build_store
from wubloader.db.database import Database

# Nothing listens here: a database or peer that cannot be reached.
CLOSED = free_port()
UNREACHABLE_DB = f"postgresql://postgres@127.0.0.1:{CLOSED}/nowhere?connect_timeout=2"


def get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@dataclass
class Case:
    """`args` (with {port}, {base}, {db}, {locations}, {peer} filled in); what /readyz must answer."""

    args: str
    ready: int = 200
    reason: str = ""
    migrated_db: bool = True


CASES = {
    "restreamer": Case("restreamer --base-dir {base} --port {port}"),
    "restreamer-metrics-port": Case("restreamer --base-dir {base} --port {other} --metrics-port {port}"),
    "thrimshim": Case("thrimshim --db {db} --port {port} --no-authentication"),
    "node": Case("node --base-dir {base} --port {port}"),
    "node-metrics-port": Case("node --base-dir {base} --port {other} --metrics-port {port}"),
    "node-database-down": Case(
        f"node --base-dir {{base}} --port {{port}} --editor-port {{other}} --db {UNREACHABLE_DB}",
        503,
        "database: ",
    ),
    "downloader": Case("downloader chan --source {peer}/x.m3u8 --base-dir {base} --metrics-port {port}"),
    "downloader-store-unwritable": Case(
        "downloader chan --source {peer}/x.m3u8 --base-dir {blocked} --metrics-port {port}", 503, "store: "
    ),
    "backfiller": Case("backfiller --base-dir {base} --nodes {peer} --metrics-port {port}"),
    "cutter": Case("cutter --base-dir {base} --db {db} --locations {locations} --metrics-port {port}"),
    "cutter-database-down": Case(
        f"cutter --base-dir {{base}} --db {UNREACHABLE_DB} --locations {{locations}} --metrics-port {{port}}",
        503,
        "database: ",
    ),
    "coverage": Case("coverage --base-dir {base} --channels chan --metrics-port {port}"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_health_routes(name, tmp_path, components):
    case = CASES[name]
    base = tmp_path / "store"
    build_store(base, STORE_START, 2)
    (tmp_path / "file").write_bytes(b"")
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Database(db).upgrade()
    locations = tmp_path / "locations.json"
    locations.write_text(json.dumps({"l": {"type": "local", "path": str(tmp_path / "out")}}))
    port = free_port()
    args = case.args.format(
        port=port, other=free_port(), base=base, db=db, locations=locations,
        peer=f"http://127.0.0.1:{CLOSED}", blocked=tmp_path / "file" / "store",
    ).split()  # fmt: skip
    component = start_component(args, tmp_path / "logs", port=port, ready_path="/healthz")
    components.append(component)
    assert get(component.url + "/healthz") == (200, {"status": "alive"})
    status, body = get(component.url + "/readyz")
    assert status == case.ready, (body, component.log())
    if case.ready == 200:
        assert body == {"status": "ready"}
    else:
        assert body["status"] == "not ready" and body["reason"].startswith(case.reason), body
        assert "\n" not in body["reason"]
    assert component.stop() == 0, component.log()


@pytest.mark.parametrize("command", ["cutter", "backfiller", "coverage", "downloader"])
def test_metrics_host_moves_the_standalone_server(command, tmp_path, components):
    """Probes and Prometheus in other containers need a wider address than loopback's 127.0.0.1."""
    base = tmp_path / "store"
    build_store(base, STORE_START, 1)
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Database(db).upgrade()
    locations = tmp_path / "locations.json"
    locations.write_text(json.dumps({"l": {"type": "local", "path": str(tmp_path / "out")}}))
    port = free_port()
    args = {
        "cutter": f"cutter --base-dir {base} --db {db} --locations {locations}",
        "backfiller": f"backfiller --base-dir {base} --nodes http://127.0.0.1:{CLOSED}",
        "coverage": f"coverage --base-dir {base} --channels chan",
        "downloader": f"downloader chan --source http://127.0.0.1:{CLOSED}/x.m3u8 --base-dir {base}",
    }[command].split()
    component = start_component(
        [*args, "--metrics-port", str(port), "--metrics-host", "127.0.0.2"],
        tmp_path / "logs",
        port=port,
        ready_path=None,
    )
    components.append(component)
    wait_until(lambda: answers(f"http://127.0.0.2:{port}/healthz"), 60, message="the moved health route")
    assert get(f"http://127.0.0.2:{port}/readyz") == (200, {"status": "ready"})
    assert not answers(f"http://127.0.0.1:{port}/healthz")
    assert component.stop() == 0, component.log()


def answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False
