"""`wubloader node` start-up: fatal errors end the process with one line; `--metrics-port` serves metrics."""

from __future__ import annotations

import socket
import urllib.request

from tests.harness.processes import free_port, start_component
from wubloader.db import migrations
from wubloader.db.database import Database


def exits_with_one_line(args: list[str], tmp_path, components, code: int, message: str) -> None:
    node = start_component(["node", *args], tmp_path / "logs", ready_path=None)
    components.append(node)  # killed at the end if it never exits
    assert node.process.wait(timeout=60) == code, node.log()
    log = node.log()
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and message in errors[0], log
    assert "Traceback" not in log


def test_port_in_use_exits_at_once(tmp_path, components):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["--base-dir", str(tmp_path / "store"), "--port", str(port)]
        exits_with_one_line(args, tmp_path, components, 1, "address already in use")


def test_metrics_port_in_use_exits_at_once(tmp_path, components):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [
            "--base-dir",
            str(tmp_path / "store"),
            "--port",
            str(free_port()),
            "--metrics-port",
            str(port),
        ]
        exits_with_one_line(args, tmp_path, components, 1, "address already in use")


def test_a_store_that_cannot_be_created_exits_2(tmp_path, components):
    (tmp_path / "file").write_text("not a directory")
    args = ["--base-dir", str(tmp_path / "file" / "store"), "--port", str(free_port())]
    exits_with_one_line(args, tmp_path, components, 2, "--base-dir")


def test_metrics_port_serves_metrics(tmp_path, components):
    port, metrics = free_port(), free_port()
    node = start_component(
        ["node", "--base-dir", str(tmp_path / "store"), "--port", str(port), "--metrics-port", str(metrics)],
        tmp_path / "logs",
        port=port,
    )
    components.append(node)
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=30) as response:
        assert response.status == 200
        assert b"wubloader_http_requests_total" in response.read()
    assert node.stop() == 0


def test_locations_without_a_database_exits_2(tmp_path, components):
    args = [
        "--base-dir",
        str(tmp_path / "store"),
        "--port",
        str(free_port()),
        "--locations",
        str(tmp_path / "l.json"),
    ]
    exits_with_one_line(args, tmp_path, components, 2, "--locations needs --db")


def test_an_unknown_database_url_exits_2(tmp_path, components):
    args = ["--base-dir", str(tmp_path / "store"), "--port", str(free_port()), "--editor-port", str(free_port()),
            "--db", "mysql://nowhere/x"]  # fmt: skip
    exits_with_one_line(args, tmp_path, components, 2, "unsupported database 'mysql'")


def test_an_outdated_database_exits_2_naming_the_upgrade(tmp_path, components):
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    database = Database(url)
    migrations.upgrade(database.engine, target=1)
    database.close()
    args = ["--base-dir", str(tmp_path / "store"), "--port", str(free_port()), "--editor-port", str(free_port()),
            "--db", url]  # fmt: skip
    exits_with_one_line(args, tmp_path, components, 2, "wubloader db upgrade")


def test_an_editor_port_equal_to_the_port_exits_2(tmp_path, components):
    port = str(free_port())
    args = ["--demo", "--base-dir", str(tmp_path / "store"), "--port", port, "--editor-port", port]
    exits_with_one_line(args, tmp_path, components, 2, "--editor-port must differ from --port")
