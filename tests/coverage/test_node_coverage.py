"""`wubloader node --coverage-interval`: maps appear on the node's page and metrics stay per channel/quality."""

import re
import urllib.request
from datetime import timedelta

from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.store_builder import build_store
from tests.maintenance.node_metrics import metric_total


def test_node_draws_maps_and_exports_bounded_metrics(tmp_path, components):
    base = tmp_path / "a"
    build_store(base, STORE_START, 30, skip={10, 11})
    build_store(base, STORE_START + timedelta(hours=2), 5)
    port = free_port()
    args = ["node", "--base-dir", str(base), "--port", str(port), "--coverage-interval", "1"]
    node = start_component(args, tmp_path / "logs", port=port)
    components.append(node)
    png = base / "coverage-maps" / "chan_source_coverage.png"
    wait_until(png.exists, 60, message="the coverage map")
    with urllib.request.urlopen(node.url + "/coverage", timeout=10) as response:
        assert "chan_source_coverage.png" in response.read().decode()
    labels = '{channel="chan",quality="source"}'
    wait_until(lambda: metric_total(node.url, "wubloader_coverage_holes") == 2, 30, message="metrics")
    assert metric_total(node.url, "wubloader_coverage_hours") == 3
    assert metric_total(node.url, "wubloader_coverage_segments", 'type="full"') == 33
    with urllib.request.urlopen(node.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    coverage_lines = [line for line in text.splitlines() if line.startswith("wubloader_coverage_")]
    assert any(labels in line for line in coverage_lines)
    assert not any(re.search(r'hour="', line) for line in coverage_lines)
    assert node.stop() == 0
