"""A real Prometheus scrapes the real three-node cluster of tests/harness/cluster.py (one PostgreSQL;
A archives and edits, B archives, C backfills; separate cutters on B and C) plus a standalone
`wubloader coverage` of A's store: every alert rule and Grafana panel query evaluates through its
HTTP API (see tests/harness/prometheus.py for how the configuration differs from deploy/prometheus and
how rules whose condition is false are checked), and SIGKILLing node A fires WubloaderNodeDown.

Slow (about a minute alone): a cluster start-up, a live source and Prometheus until every series has
two samples.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.harness.cluster import CHANNEL, start_cluster
from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.prometheus import check_rules_and_panels, run_prometheus

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]


@pytest.mark.timeout(600)
def test_prometheus_over_the_cluster(tmp_path, postgres_server, components):
    with start_cluster(tmp_path / "cluster", postgres_server) as cluster:
        a = cluster.nodes["A"]
        wait_until(lambda: (a.base / CHANNEL).is_dir(), 120, message="A's first segment")
        coverage_port = free_port()
        coverage = start_component(
            ["coverage", "--base-dir", str(a.base), "--channels", CHANNEL, "--interval", "1",
             "--metrics-port", str(coverage_port)],
            tmp_path / "logs", port=coverage_port, ready_path="/healthz",
        )  # fmt: skip
        components.append(coverage)
        targets = {
            "nodes": [(f"127.0.0.1:{node.port}", name) for name, node in cluster.nodes.items()],
            "cutters": [
                (f"127.0.0.1:{node.cutter_metrics_port}", name)
                for name, node in cluster.nodes.items()
                if node.cutter_metrics_port is not None
            ],
            "thrimshim": [(f"127.0.0.1:{a.editor_port}", "A")],
            "components": [(f"127.0.0.1:{coverage_port}", "A")],
        }
        with run_prometheus(tmp_path / "prometheus", targets) as prometheus:
            check_rules_and_panels(prometheus)
            up = prometheus.query("up")
            assert len(up) == 7 and all(series["value"][1] == "1" for series in up), up
            assert prometheus.firing("WubloaderNodeDown") == []

            killed_at = time.time()
            cluster.kill("A")
            wait_until(lambda: prometheus.firing("WubloaderNodeDown"), 120, interval=0.5, message="node down")
            (alert,) = prometheus.firing("WubloaderNodeDown")
            assert alert["labels"]["node"] == "A" and alert["labels"]["instance"] == f"127.0.0.1:{a.port}"
            active_at = datetime.fromisoformat(alert["activeAt"].replace("Z", "+00:00"))
            assert active_at.timestamp() >= killed_at - 2.0  # a scrape in flight at the kill may fail
