"""`wubloader thrimshim` as a real process: refuses an old schema, logs disabled auth, survives schemathesis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.harness.processes import free_port, start_component
from tests.thrimshim.conftest import seed
from wubloader.db import migrations
from wubloader.db.database import Database

pytestmark = pytest.mark.slow


def start_thrimshim(db_url, tmp_path, components, *extra):
    port = free_port()
    component = start_component(
        ["thrimshim", "--db", db_url, "--port", str(port), "--upload-locations", "local,youtube", *extra],
        tmp_path / "logs",
        port=port,
    )
    components.append(component)
    return component


def test_refuses_an_old_schema_naming_the_upgrade(db_url, tmp_path):
    database = Database(db_url)
    migrations.upgrade(database.engine, target=1)
    database.close()
    result = subprocess.run(
        [sys.executable, "-m", "wubloader", "thrimshim", "--db", db_url, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "run `wubloader db upgrade`" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.timeout(600)
def test_serves_logs_disabled_auth_and_schemathesis_finds_no_server_errors(database, tmp_path, components):
    seed(database)
    server = start_thrimshim(database.url, tmp_path, components, "--no-authentication")
    with urllib.request.urlopen(server.url + "/thrimshim/ev1", timeout=30) as response:
        assert json.load(response)["id"] == "ev1"
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "schemathesis"),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "12",
            "--workers",
            "1",
            "--generation-deterministic",
            "--phases",
            "coverage,fuzzing",
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=500,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout
    assert server.stop() == 0
    log = server.log()
    assert "authentication is DISABLED" in log
    assert "Traceback" not in log and "internal error" not in log
