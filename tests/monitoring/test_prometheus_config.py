"""deploy/prometheus passes promtool: the config and rules are valid and every alert's unit tests
(tests/monitoring/alerts_test.yml, synthetic series) pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
UNIT_TESTS = Path(__file__).with_name("alerts_test.yml")


def promtool(*args: str) -> str:
    result = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def alert_names() -> set[str]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"]}


def test_config_and_rules_are_valid() -> None:
    assert "SUCCESS" in promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert f"SUCCESS: {len(alert_names())} rules found" in promtool(
        "check", "rules", str(PROMETHEUS / "alerts.yml")
    )


def test_every_alert_has_unit_tests_and_they_pass() -> None:
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert tested == alert_names()
    assert "SUCCESS" in promtool("test", "rules", str(UNIT_TESTS))
