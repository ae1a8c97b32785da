"""A real Prometheus scrapes two real nodes through deploy/prometheus (see tests/harness/prometheus.py
for the three ways the configuration differs and how rules whose condition is false are checked):
every alert rule and every Grafana panel query evaluates through its HTTP API, and killing a node
fires WubloaderNodeDown.

The nodes: a `--demo` node (downloader, restreamer, coverage, thrimshim + editor + cutter) and a node
that backfills from it; the demo's editor port is scraped as the thrimshim job. No PostgreSQL: the
cluster test (test_prometheus_cluster.py) covers a real cluster.

Slow (about 30 s alone, more under load): two nodes, the demo's live encoder and Prometheus must all
run until every series has at least two samples.
"""

from __future__ import annotations

import signal
import time
from datetime import datetime

import pytest

from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.prometheus import check_rules_and_panels, run_prometheus

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]


@pytest.mark.timeout(420)
def test_prometheus_evaluates_every_rule_and_panel_and_fires_node_down(tmp_path, components):
    ports = {"a": free_port(), "b": free_port()}
    editor = free_port()
    logs = tmp_path / "logs"
    node_a = start_component(
        ["node", "--demo", "--base-dir", str(tmp_path / "a"), "--port", str(ports["a"]),
         "--editor-port", str(editor), "--coverage-interval", "1"],
        logs, port=ports["a"], ready_path="/healthz",
    )  # fmt: skip
    components.append(node_a)
    node_b = start_component(
        ["node", "--base-dir", str(tmp_path / "b"), "--port", str(ports["b"]), "--nodes", node_a.url,
         "--recent-cutoff", "1", "--pass-interval", "1", "--coverage-interval", "1"],
        logs, port=ports["b"], ready_path="/healthz",
    )  # fmt: skip
    components.append(node_b)
    targets = {
        "nodes": [(f"127.0.0.1:{port}", name) for name, port in ports.items()],
        "thrimshim": [(f"127.0.0.1:{editor}", "a")],
    }
    with run_prometheus(tmp_path / "prometheus", targets) as prometheus:
        check_rules_and_panels(prometheus)
        assert prometheus.firing("WubloaderNodeDown") == []

        killed_at = time.time()
        node_a.stop(signal.SIGKILL)
        wait_until(lambda: prometheus.firing("WubloaderNodeDown"), 120, interval=0.5, message="node down")
        (alert,) = prometheus.firing("WubloaderNodeDown")
        assert alert["labels"]["node"] == "a" and alert["labels"]["instance"] == f"127.0.0.1:{ports['a']}"
        active_at = datetime.fromisoformat(alert["activeAt"].replace("Z", "+00:00"))
        assert active_at.timestamp() >= killed_at - 2.0  # a scrape in flight at the kill may fail
