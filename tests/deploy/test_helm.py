"""The Helm chart: `helm lint` and `helm template` (the official helm binary, bin/setup --test) succeed,
every rendered manifest validates against the Kubernetes schemas (kubernetes-validate bundles them), and
every container's command, flags, variables and probes match our CLI and its health routes."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.deploy.invocations import parse_invocation, unknown_options
from tests.deploy.manifests import CHART, HELM_VALUES, helm, helm_invocations, helm_template
from wubloader.node.app import config_from_args as node_config_from_args

# The oldest Kubernetes release the chart supports, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.29.0", "1.35.0")
SETS = [f"--set={key}={value}" for key, value in HELM_VALUES.items()]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, object]]:
    return helm_template()


def by_kind(docs: list[dict[str, object]], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_helm_lint_passes() -> None:
    result = helm("lint", "--strict", str(CHART), *SETS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_rendered_manifests_validate_against_the_kubernetes_schemas(docs: list[dict], version: str) -> None:
    assert {doc["kind"] for doc in docs} == {
        "Secret",
        "ConfigMap",
        "Service",
        "StatefulSet",
        "Deployment",
        "Job",
    }
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)  # raises ValidationError
    broken = dict(by_kind(docs, "StatefulSet")[0], spec={"replicas": "three"})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_render_fails_without_a_database() -> None:
    with pytest.raises(AssertionError, match=r"database\.url or database\.existingSecret"):
        helm_template({"channel": "c", "source": "https://live.example/c.m3u8"})


def test_an_existing_secret_is_used_instead_of_creating_one() -> None:
    docs = helm_template({"database.existingSecret": "pg", "database.secretKey": "uri"})
    assert by_kind(docs, "Secret") == []
    for workload in by_kind(docs, "StatefulSet") + by_kind(docs, "Deployment") + by_kind(docs, "Job"):
        env = workload["spec"]["template"]["spec"]["containers"][0]["env"]
        db = next(item for item in env if item["name"] == "WUBLOADER_DB")
        assert db["valueFrom"]["secretKeyRef"] == {"name": "pg", "key": "uri"}


def test_nodes_are_a_statefulset_with_a_volume_each(docs: list[dict]) -> None:
    (nodes,) = by_kind(docs, "StatefulSet")
    assert nodes["spec"]["replicas"] == 3
    (claim,) = nodes["spec"]["volumeClaimTemplates"]
    mounts = nodes["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/mnt/segments"} in mounts
    headless = next(
        s for s in by_kind(docs, "Service") if s["metadata"]["name"] == nodes["spec"]["serviceName"]
    )
    assert headless["spec"]["clusterIP"] == "None"


def test_peers_follow_the_replica_count() -> None:
    docs = helm_template({**HELM_VALUES, "node.replicas": "5"})
    (config,) = by_kind(docs, "ConfigMap")
    peers = [line.split() for line in config["data"]["nodes.txt"].splitlines()]
    assert [name for name, _ in peers] == [f"wb-wubloader-node-{i}" for i in range(5)]
    assert peers[4][1] == "http://wb-wubloader-node-4.wb-wubloader-node.archive.svc:8000"


def test_pods_carry_prometheus_scrape_annotations(docs: list[dict]) -> None:
    for workload in by_kind(docs, "StatefulSet") + by_kind(docs, "Deployment"):
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        port = workload["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(port),
            "prometheus.io/path": "/metrics",
        }


def test_every_command_flag_and_variable_exists_in_our_cli(docs: list[dict], tmp_path: Path) -> None:
    invocations = helm_invocations(docs, tmp_path, HELM_VALUES["database.url"])
    assert sorted(i.argv[0] for i in invocations) == ["db", "node", "thrimshim"]
    for invocation in invocations:
        assert unknown_options(invocation) == [], invocation.where
        args = parse_invocation(invocation)
        if invocation.argv[0] == "node":
            node = node_config_from_args(args)
            assert node.self_url == "http://wb-wubloader-node-0.wb-wubloader-node.archive.svc:8000"
            assert node.downloader is not None and node.backfiller is not None
            assert node.editing is not None and node.editing.db_url == HELM_VALUES["database.url"]


def test_probes_hit_the_health_routes_on_the_served_port(docs: list[dict], tmp_path: Path) -> None:
    for invocation in helm_invocations(docs, tmp_path, HELM_VALUES["database.url"]):
        if invocation.argv[0] == "db":
            assert invocation.healthchecks == []  # a Job: it exits
            continue
        port = parse_invocation(invocation).port
        assert invocation.healthchecks == [
            ("livenessProbe", port, "/healthz"),
            ("readinessProbe", port, "/readyz"),
            ("startupProbe", port, "/healthz"),
        ], invocation.where


@pytest.mark.parametrize(
    ("value", "message"),
    [("node.replicas=three", "/node/replicas"), ("database.url=mysql://u:p@h/d", "/database/url")],
)
def test_values_schema_refuses_bad_values(value: str, message: str) -> None:
    key, _, text = value.partition("=")
    with pytest.raises(AssertionError, match=message):
        helm_template({**HELM_VALUES, key: text})


def test_without_a_source_the_nodes_only_backfill(tmp_path: Path) -> None:
    values = {"database.url": HELM_VALUES["database.url"]}
    invocations = helm_invocations(helm_template(values), tmp_path, values["database.url"])
    node = next(i for i in invocations if i.argv[0] == "node")
    assert "WUBLOADER_SOURCE" not in node.env and "WUBLOADER_CHANNEL" not in node.env
    config = node_config_from_args(parse_invocation(node))
    assert config.downloader is None and config.backfiller is not None


def test_the_upgrade_hook_runs_after_the_secret_it_needs_exists(docs: list[dict]) -> None:
    """Helm creates ordinary resources only after the pre-install hooks: the Secret must be a hook too."""
    (secret,) = by_kind(docs, "Secret")
    (job,) = by_kind(docs, "Job")
    hooks = [secret["metadata"]["annotations"], job["metadata"]["annotations"]]
    assert all(h["helm.sh/hook"] == "pre-install,pre-upgrade" for h in hooks)
    assert int(hooks[0]["helm.sh/hook-weight"]) < int(hooks[1]["helm.sh/hook-weight"])
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]


def relabel(rules: list[dict], labels: dict[str, str]) -> dict[str, str] | None:
    """Prometheus's `keep` and `replace` relabeling (anchored regexes, `;`-joined sources, `$1`)."""
    labels = dict(labels)
    for rule in rules:
        value = ";".join(labels.get(name, "") for name in rule["source_labels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if rule.get("action", "replace") == "keep":
            if match is None:
                return None
        elif match is not None:
            labels[rule["target_label"]] = match.expand(rule.get("replacement", "$1").replace("$", "\\"))
    return labels


def pod_meta(workload: dict, name: str, ip: str) -> dict[str, str]:
    """The labels Kubernetes service discovery gives a pod of `workload`."""
    template = workload["spec"]["template"]["metadata"]
    sanitize = functools.partial(re.sub, r"[^A-Za-z0-9_]", "_")
    meta = {"__address__": ip, "__meta_kubernetes_pod_ip": ip, "__meta_kubernetes_pod_name": name}
    meta |= {
        f"__meta_kubernetes_pod_annotation_{sanitize(k)}": v
        for k, v in template.get("annotations", {}).items()
    }
    meta |= {f"__meta_kubernetes_pod_label_{sanitize(k)}": v for k, v in template["labels"].items()}
    return meta


def test_the_kubernetes_prometheus_config_scrapes_the_pods_by_their_annotations(docs: list[dict]) -> None:
    """Debian's promtool lacks Kubernetes discovery, so the relabeling is applied here to rendered pods."""
    config = yaml.safe_load((CHART.parent / "prometheus-kubernetes.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["kubernetes_sd_configs"] == [{"role": "pod"}]
    (nodes,) = by_kind(docs, "StatefulSet")
    target = relabel(job["relabel_configs"], pod_meta(nodes, "wb-wubloader-node-1", "10.1.2.3"))
    assert target is not None
    assert (target["__address__"], target["__metrics_path__"]) == ("10.1.2.3:8000", "/metrics")
    assert (target["node"], target["component"]) == ("wb-wubloader-node-1", "node")
    (thrimshim,) = by_kind(docs, "Deployment")
    target = relabel(job["relabel_configs"], pod_meta(thrimshim, "wb-wubloader-thrimshim-x", "10.1.2.4"))
    assert target is not None and target["__address__"] == "10.1.2.4:8004"
    (upgrade,) = by_kind(docs, "Job")  # no scrape annotation: not a target
    assert relabel(job["relabel_configs"], pod_meta(upgrade, "wb-wubloader-db-upgrade-x", "10.1.2.5")) is None
