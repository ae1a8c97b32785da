"""Every compose health check and Kubernetes probe asks a route the process really serves, on the port
it really listens on: each deploy invocation runs here as a real `wubloader` process (loopback, free
ports, a temporary store and an SQLite database standing in for the container's) and the health
check's own URL path answers 200.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.invocations import host_path
from tests.deploy.manifests import (
    Invocation,
    compose_config,
    compose_invocations,
    helm_invocations,
    helm_template,
)
from tests.harness.processes import free_port, start_component
from wubloader.db.database import Database
from wubloader.runtime.health import HEALTH_ROUTES

# Container paths the deploy files use, replaced by temporary ones here.
CONTAINER_DIRS = ("/mnt/segments", "/srv/videos")


def served_invocations(tmp_path: Path) -> list[Invocation]:
    """The long-running wubloader processes of compose.yaml and the chart (not the one-shot upgrade)."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "db_url").write_text(db_url(tmp_path))
    found = compose_invocations(compose_config(), secrets)
    found += helm_invocations(helm_template(), tmp_path / "configmaps", db_url(tmp_path))
    # One node of each file is enough: the others differ only in their names.
    seen: set[tuple[str, str]] = set()
    chosen = []
    for invocation in found:
        key = (invocation.where.split()[0], invocation.argv[0])
        if invocation.argv[0] != "db" and key not in seen:
            seen.add(key)
            chosen.append(invocation)
    return chosen


def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.sqlite'}"


def localize(invocation: Invocation, tmp_path: Path) -> tuple[list[str], dict[str, str], dict[int, int]]:
    """argv and env for this machine, and the deploy's ports mapped to the free ones used instead."""
    store = tmp_path / "store"
    files = {}
    for target, source in invocation.files.items():
        local = tmp_path / "files" / target.strip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text()
        for directory in CONTAINER_DIRS:
            text = text.replace(directory, str(store))
        local.write_text(text)
        files[target] = local
    ports: dict[int, int] = {}
    argv = []
    for word in invocation.argv:
        flag, _, value = word.partition("=")
        if flag in ("--port", "--editor-port"):
            ports[int(value)] = free_port()
            word = f"{flag}={ports[int(value)]}"
        elif flag == "--host":
            word = "--host=127.0.0.1"  # nothing listens beyond loopback in tests
        elif value in CONTAINER_DIRS:
            word = f"{flag}={store}"
        argv.append(host_path(word, files))
    env = {name: host_path(value, files) for name, value in invocation.env.items()}
    if "WUBLOADER_SOURCE" in env:
        env["WUBLOADER_SOURCE"] = f"http://127.0.0.1:{free_port()}/live.m3u8"  # nothing there: it retries
    return argv, env, ports


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_each_deploy_file_runs_a_node_and_thrimshim(tmp_path: Path) -> None:
    names = sorted((i.where.split()[0], i.argv[0]) for i in served_invocations(tmp_path))
    assert names == [
        ("Deployment", "thrimshim"),
        ("StatefulSet", "node"),
        ("compose", "node"),
        ("compose", "thrimshim"),
    ]


@pytest.mark.parametrize("index", range(4))
def test_health_checks_answer_200_from_the_real_process(index: int, tmp_path: Path, components: list) -> None:
    invocation = served_invocations(tmp_path)[index]
    Database(db_url(tmp_path)).upgrade()
    argv, env, ports = localize(invocation, tmp_path)
    checks = invocation.healthchecks
    assert checks and {path for _, _, path in checks} <= set(HEALTH_ROUTES), invocation.where
    port = ports[checks[0][1]]
    component = start_component(argv, tmp_path / "logs", port=port, ready_path="/healthz", env=env)
    components.append(component)
    for kind, deploy_port, path in checks:
        url = f"http://127.0.0.1:{ports[deploy_port]}{path}"
        assert status(url) == 200, (invocation.where, kind, url, component.log())
    if invocation.check_command:  # compose runs this very command in the container
        assert run_check(invocation.check_command, ports) == 0, component.log()
    assert component.stop() == 0, component.log()
    if invocation.check_command:  # and it fails when nothing answers
        assert run_check(invocation.check_command, ports) != 0


def run_check(command: list[str], ports: dict[int, int]) -> int:
    """Run a compose health check command here: the image's `python` is ours, its ports are mapped."""
    argv = [sys.executable if word == "python" else word for word in command]
    argv = [re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports[int(m[1])]}", w) for w in argv]
    return subprocess.run(argv, capture_output=True, timeout=60, check=False).returncode
