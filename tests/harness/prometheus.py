"""A real Prometheus (Debian's binary) on 127.0.0.1 over a copy of deploy/prometheus, and the checks
the monitoring tests make through its HTTP API.

The copy differs from deploy/prometheus in three ways, all stated here: scrape and rule evaluation
every second (not 15 s), the test's own targets, and `for: 5s` on WubloaderNodeDown (not 2 m).

Most alert conditions are false on a healthy cluster, so a rule's whole expression normally returns
nothing. `check_rules_and_panels` therefore checks each rule twice: the whole expression must evaluate
without error, and every metric it names must have series. Metrics that exist only after an event a
test does not cause are passed as `event_only`: Prometheus must then know them from the scraped
HELP/TYPE lines (its metadata API) instead. Every Grafana panel query (with `$node` = `.+` and
`$__rate_interval` = `10s`) must return series, except those whose metrics are all `event_only`.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.harness.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
METRIC = re.compile(r"\b(?:wubloader_|cutter_)[a-z0-9_]+|\bup(?=\{)")
NODE_DOWN_FOR = "5s"
# Series that exist only once their event happened (tests do not cause these): checked as metadata only.
EVENT_ONLY = {
    "cutter_upload_errors_total": "a failed upload",
    "cutter_videos_uploaded_total": "a published video",
    "wubloader_downloader_errors_total": "a downloader error",
}


@dataclass
class Prometheus:
    url: str
    directory: Path

    def api(self, path: str, **params: str) -> dict:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        """The instant query's series; fails (HTTP 400) if the expression does not evaluate."""
        try:
            return self.api("query", query=expr)["result"]
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{expr!r}: {exc.read().decode()}") from None

    def firing(self, alertname: str) -> list[dict]:
        alerts = self.api("alerts")["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == alertname and a["state"] == "firing"]

    def rules(self) -> dict[str, str]:
        """Alert name → expression, from the copy of alerts.yml this server runs."""
        groups = yaml.safe_load((self.directory / "config" / "alerts.yml").read_text())["groups"]
        return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def metrics_of(expr: str) -> set[str]:
    return set(METRIC.findall(expr))


def panel_queries() -> list[str]:
    """Every panel target's expression, with the dashboard variables Grafana would fill in."""
    exprs = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                exprs.append(target["expr"].replace("$__rate_interval", "10s").replace("$node", ".+"))
    return exprs


def write_config(directory: Path, targets: dict[str, list[tuple[str, str]]]) -> None:
    """A copy of deploy/prometheus; `targets` maps a targets file stem (`nodes`, `cutters`, …) to
    `(host:port, node label)` pairs."""
    shutil.copytree(ROOT / "deploy" / "prometheus", directory)
    config = yaml.safe_load((directory / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"}
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config))
    for stem, pairs in targets.items():
        groups = [{"targets": [address], "labels": {"node": node}} for address, node in pairs]
        (directory / "targets" / f"{stem}.yml").write_text(yaml.safe_dump(groups))
    rules = yaml.safe_load((directory / "alerts.yml").read_text())
    for rule in rules["groups"][0]["rules"]:
        if rule["alert"] == "WubloaderNodeDown":
            rule["for"] = NODE_DOWN_FOR
    (directory / "alerts.yml").write_text(yaml.safe_dump(rules))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:  # not listening yet, or not ready (503)
        return False


@contextlib.contextmanager
def run_prometheus(directory: Path, targets: dict[str, list[tuple[str, str]]]) -> Iterator[Prometheus]:
    """Write the config under `directory`, start Prometheus, wait until ready; kill it afterwards."""
    write_config(directory / "config", targets)
    port = free_port()
    with open(directory / "prometheus.log", "wb") as log:
        process = subprocess.Popen(
            ["prometheus", f"--config.file={directory / 'config' / 'prometheus.yml'}",
             f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        server = Prometheus(url=f"http://127.0.0.1:{port}", directory=directory)
        wait_until(lambda: _answers(f"{server.url}/-/ready"), 60, interval=0.2, message="Prometheus ready")
        yield server
    finally:
        process.kill()
        process.wait()


def check_rules_and_panels(prometheus: Prometheus, event_only: dict[str, str] = EVENT_ONLY) -> None:
    """Every rule evaluates and its metrics have series; every panel query returns series (see above)."""
    rules = prometheus.rules()
    for name, expr in rules.items():
        prometheus.query(expr)  # evaluates without error (usually empty: the condition is false)
        assert metrics_of(expr), name
    checks = [f'count({{__name__="{m}"}})' for m in set().union(*map(metrics_of, rules.values()))]
    checks = [c for c in checks if not metrics_of(c) <= set(event_only)]
    for expr in panel_queries():
        if metrics_of(expr) <= set(event_only):
            prometheus.query(expr)
        else:
            checks.append(expr)
    empty: list[str] = []

    def all_have_series() -> bool:
        empty[:] = [expr for expr in checks if not prometheus.query(expr)]
        return not empty

    try:
        wait_until(all_have_series, 240, interval=1, message="series for every rule metric and panel")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still empty: {empty}") from None
    for metric in event_only:  # scraped by now: its HELP/TYPE lines came with every scrape
        assert prometheus.api("metadata", metric=metric), f"{metric} is not exported"
