"""A real Prometheus (Debian's binary, 127.0.0.1, free port) scrapes two real nodes through the
deploy/prometheus configuration; every alert rule and every Grafana panel query evaluates through its
HTTP API, and killing a node fires WubloaderNodeDown.

The run differs from production in three stated ways, all made to a copy of deploy/prometheus:
scrape and rule evaluation every second (not 15 s), the targets point at the test's ports, and
WubloaderNodeDown's `for:` is 5 s (not 2 m) so the kill fires it quickly.

Most alert conditions are false on a healthy cluster, so a rule's whole expression normally returns
nothing. Each rule is therefore checked twice: the whole expression must evaluate without error, and
every metric it names must have series in Prometheus. The few metrics that exist only after an event
this run does not cause (a failed upload, a published video, a downloader error) are in EVENT_ONLY:
for them Prometheus must know the metric from the scraped HELP/TYPE lines (its metadata API) instead.
Panel queries must evaluate and return series, except those whose metrics are all EVENT_ONLY.

Slow (about 30 s alone, more under load): two nodes, the demo's live encoder and Prometheus must all
run until every series has at least two samples.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.harness.processes import free_port, start_component, wait_until

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
EVENT_ONLY = {
    "cutter_upload_errors_total": "a failed upload",
    "cutter_videos_uploaded_total": "a published video",
    "wubloader_downloader_errors_total": "a downloader error",
}
METRIC = re.compile(r"\b(?:wubloader_|cutter_)[a-z0-9_]+|\bup(?=\{)")
NODE_DOWN_FOR = "5s"


def api(prometheus: str, path: str, **params: str) -> dict:
    url = f"{prometheus}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def query(prometheus: str, expr: str) -> list[dict]:
    """The instant query's series; fails (HTTP 400) if the expression does not evaluate."""
    try:
        return api(prometheus, "query", query=expr)["result"]
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{expr!r}: {exc.read().decode()}") from None


def metrics_of(expr: str) -> set[str]:
    return set(METRIC.findall(expr))


def panel_queries() -> list[str]:
    """Every panel target's expression, with the dashboard variables Grafana would fill in."""
    exprs = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                exprs.append(target["expr"].replace("$__rate_interval", "10s").replace("$node", ".+"))
    return exprs


def rule_exprs(rules: Path) -> dict[str, str]:
    groups = yaml.safe_load(rules.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def write_config(directory: Path, nodes: dict[str, int], thrimshim: int) -> None:
    """A copy of deploy/prometheus with the test's targets, 1 s intervals and a 5 s node-down `for:`."""
    shutil.copytree(ROOT / "deploy" / "prometheus", directory)
    config = yaml.safe_load((directory / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"}
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    targets = [{"targets": [f"127.0.0.1:{port}"], "labels": {"node": name}} for name, port in nodes.items()]
    (directory / "targets" / "nodes.yml").write_text(yaml.safe_dump(targets))
    thrimshim_targets = [{"targets": [f"127.0.0.1:{thrimshim}"], "labels": {"node": "a"}}]
    (directory / "targets" / "thrimshim.yml").write_text(yaml.safe_dump(thrimshim_targets))
    rules = yaml.safe_load((directory / "alerts.yml").read_text())
    for rule in rules["groups"][0]["rules"]:
        if rule["alert"] == "WubloaderNodeDown":
            rule["for"] = NODE_DOWN_FOR
    (directory / "alerts.yml").write_text(yaml.safe_dump(rules))


def start_prometheus(directory: Path, port: int) -> subprocess.Popen[bytes]:
    log = open(directory / "prometheus.log", "wb")  # the child writes it until killed
    return subprocess.Popen(
        ["prometheus", f"--config.file={directory / 'config' / 'prometheus.yml'}",
         f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:  # not listening yet, or not ready (503)
        return False


def node_down_alerts(prometheus: str) -> list[dict]:
    alerts = api(prometheus, "alerts")["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == "WubloaderNodeDown" and a["state"] == "firing"]


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
    write_config(tmp_path / "prometheus" / "config", ports, editor)
    port = free_port()
    prometheus_process = start_prometheus(tmp_path / "prometheus", port)
    prometheus = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{prometheus}/-/ready"), 60, interval=0.2, message="Prometheus ready")
        rules = rule_exprs(tmp_path / "prometheus" / "config" / "alerts.yml")
        for name, expr in rules.items():
            query(prometheus, expr)  # evaluates without error (usually empty: the condition is false)
            assert metrics_of(expr), name
        # Rules: every metric they name has series. Panels: the query itself returns series.
        checks = [f'count({{__name__="{m}"}})' for m in set().union(*map(metrics_of, rules.values()))]
        checks = [c for c in checks if not metrics_of(c) <= set(EVENT_ONLY)]
        for expr in panel_queries():
            if metrics_of(expr) <= set(EVENT_ONLY):
                query(prometheus, expr)
            else:
                checks.append(expr)
        empty: list[str] = []

        def all_have_series() -> bool:
            empty[:] = [expr for expr in checks if not query(prometheus, expr)]
            return not empty

        try:
            wait_until(all_have_series, 240, interval=1, message="series for every rule metric and panel")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still empty: {empty}") from None
        for metric in EVENT_ONLY:  # scraped by now: its HELP/TYPE lines came with every scrape
            assert api(prometheus, "metadata", metric=metric), f"{metric} is not exported"
        assert node_down_alerts(prometheus) == []

        killed_at = time.time()
        node_a.stop(signal.SIGKILL)
        wait_until(lambda: node_down_alerts(prometheus), 120, interval=0.5, message="WubloaderNodeDown firing")
        (alert,) = node_down_alerts(prometheus)
        assert alert["labels"]["node"] == "a" and alert["labels"]["instance"] == f"127.0.0.1:{ports['a']}"
        active_at = alert["activeAt"].replace("Z", "+00:00")
        assert datetime.fromisoformat(active_at).timestamp() >= killed_at - 1.0
    finally:
        prometheus_process.kill()
        prometheus_process.wait()
