"""compose.yaml: valid against the Compose specification's schema, resolvable like `docker compose config`,
and every wubloader service's command, flags and variables exist in our CLI.

The schema is the compose-spec project's, as check-jsonschema (PyPI) vendors it
(`check_jsonschema/builtin_schemas/vendor/compose-spec.json`).
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.deploy.invocations import parse_invocation, unknown_options
from tests.deploy.manifests import (
    COMPOSE_ENV,
    ROOT,
    WUBLOADER_IMAGE_VAR,
    InterpolationError,
    compose_config,
    compose_invocations,
    compose_raw,
    interpolate,
)
from wubloader.node.app import config_from_args as node_config_from_args

NODES = ("node-a", "node-b", "node-c")  # as deploy/prometheus/targets/nodes.yml names them


def compose_schema() -> dict[str, object]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, object] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    """What the operator writes into deploy/compose/secrets/ (deploy/README.md)."""
    (tmp_path / "db_url").write_text("postgresql://wubloader:pw@postgres:5432/wubloader\n")
    (tmp_path / "db_password").write_text("pw\n")
    return tmp_path


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert (
        interpolate("$$SET ${SET} $SET ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-a}", env)
        == "$SET x x d d  a"
    )
    with pytest.raises(InterpolationError, match="set it"):
        interpolate("${EMPTY:?set it}", env)


def test_compose_validates_against_the_compose_spec_schema() -> None:
    validator = jsonschema.validators.validator_for(compose_schema())(compose_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose_config())]
    assert errors == []
    # The schema does reject what compose rejects: a misspelt key under a service.
    broken = compose_config()
    broken["services"]["node-a"]["helthcheck"] = {}
    assert not validator.is_valid(broken)


def test_compose_refuses_to_start_without_the_channel_and_source() -> None:
    with pytest.raises(InterpolationError, match="WUBLOADER_CHANNEL"):
        compose_config({"WUBLOADER_SOURCE": "x"})
    with pytest.raises(InterpolationError, match="WUBLOADER_SOURCE"):
        compose_config({"WUBLOADER_CHANNEL": "x"})


def test_every_reference_resolves() -> None:
    """What `docker compose config` checks beyond the schema: named things exist, files exist."""
    config = compose_config()
    services = config["services"]
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name
        for secret in service.get("secrets", []):
            assert secret in config["secrets"], (name, secret)
        for mount in service.get("configs", []):
            assert mount["source"] in config["configs"], (name, mount)
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in config["volumes"], (name, source)
    for item in config["configs"].values():
        assert (ROOT / item["file"]).is_file(), item
    for item in config["secrets"].values():
        # Written by the operator; the folder exists and keeps them out of git.
        secret = ROOT / item["file"]
        assert secret.parent.is_dir() and (secret.parent / ".gitignore").read_text().split()[-2:] == [
            "*",
            "!.gitignore",
        ]


def test_every_wubloader_service_waits_for_the_schema_upgrade() -> None:
    services = compose_config()["services"]
    upgrade = services["db-upgrade"]
    assert upgrade["command"] == ["db", "upgrade"]
    assert upgrade["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    ours = [
        n for n, s in compose_raw()["services"].items() if s.get("image", "").startswith(WUBLOADER_IMAGE_VAR)
    ]
    assert set(ours) == {"db-upgrade", "thrimshim", *NODES}
    for name in set(ours) - {"db-upgrade"}:
        assert services[name]["depends_on"] == {"db-upgrade": {"condition": "service_completed_successfully"}}


def test_every_service_has_a_restart_policy_and_a_health_check() -> None:
    for name, service in compose_config()["services"].items():
        assert service["restart"] in ("unless-stopped", "always", "on-failure:5"), name
        if name == "db-upgrade":  # a one-shot: the others wait for its exit status instead
            assert service["healthcheck"] == {"disable": True} and service["restart"].startswith("on-failure")
        else:
            assert service["healthcheck"]["test"][0] == "CMD", name


def test_ports_are_published_on_loopback_only() -> None:
    published = [p for s in compose_config()["services"].values() for p in s.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published)
    host_ports = [port.split(":")[1] for port in published]
    assert len(host_ports) == len(set(host_ports))


def test_images_are_ours_or_pinned_official_ones() -> None:
    for name, service in compose_raw()["services"].items():
        image = service["image"]
        assert "dbvideostriketeam" not in image.lower()
        if not image.startswith(WUBLOADER_IMAGE_VAR):
            repository, _, tag = image.rpartition(":")
            assert repository in ("postgres", "prom/prometheus", "grafana/grafana-oss"), name
            assert tag and tag != "latest", name


def test_nodes_backfill_from_each_other_and_keep_their_own_store() -> None:
    config = compose_config()
    peers = (ROOT / config["configs"]["nodes"]["file"]).read_text()
    lines = [line.split() for line in peers.splitlines() if line and not line.startswith("#")]
    assert lines == [[name, f"http://{name}:8000"] for name in NODES]
    volumes = set()
    for name in NODES:
        node = config["services"][name]
        assert node["environment"]["WUBLOADER_SELF_URL"] == f"http://{name}:8000"
        assert node["hostname"] == name  # the cutter's name: unique and stable
        volumes.add(next(v for v in node["volumes"] if v.endswith(":/mnt/segments")))
    assert len(volumes) == len(NODES)


def test_every_command_flag_and_variable_exists_in_our_cli(secrets_dir: Path) -> None:
    invocations = compose_invocations(compose_config(), secrets_dir)
    assert len(invocations) == 5
    for invocation in invocations:
        assert unknown_options(invocation) == [], invocation.where
        args = parse_invocation(invocation)  # exits 2 (SystemExit) on a bad value or a missing option
        if invocation.argv[0] == "node":
            node = node_config_from_args(args)
            assert node.downloader is not None and node.downloader.channel == COMPOSE_ENV["WUBLOADER_CHANNEL"]
            assert node.backfiller is not None and node.editing is not None
            assert node.editing.locations is not None and set(node.editing.locations) == {"local"}
            assert (node.restreamer.host, node.restreamer.port) == ("0.0.0.0", 8000)
        elif invocation.argv[0] != "db":
            assert invocation.argv[0] == "thrimshim" and args.port == 8004
            assert args.db.startswith("postgresql://") and args.upload_locations == ("local",)


def test_health_checks_probe_the_services_own_port(secrets_dir: Path) -> None:
    for invocation in compose_invocations(compose_config(), secrets_dir):
        if invocation.argv[0] == "db":
            continue
        args = parse_invocation(invocation)
        assert [(port, path) for _, port, path in invocation.healthchecks] == [(args.port, "/readyz")]


def test_monitoring_mounts_the_deploy_folders() -> None:
    services = compose_config()["services"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    grafana = services["grafana"]["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards/wubloader:ro" in grafana


def test_prometheus_scrapes_every_node_and_thrimshim() -> None:
    """deploy/prometheus/targets/ names the compose services, so the alerts see every one."""
    targets = ROOT / "deploy" / "prometheus" / "targets"
    scraped = {
        target
        for name in ("nodes.yml", "thrimshim.yml")
        for group in yaml.safe_load((targets / name).read_text())
        for target in group["targets"]
    }
    assert scraped == {f"{name}:8000" for name in NODES} | {"thrimshim:8004"}


def test_grafana_provisioning_finds_the_mounted_dashboards_and_prometheus() -> None:
    services = compose_config()["services"]
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "wubloader.yml").read_text())["providers"]
    mounts = dict(v.removesuffix(":ro").split(":", 1)[::-1] for v in services["grafana"]["volumes"])
    assert mounts[provider["options"]["path"]] == "./deploy/grafana/dashboards"
    assert list((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
    (datasource,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    listen = next(a for a in services["prometheus"]["command"] if a.startswith("--web.listen-address="))
    assert datasource["url"] == "http://prometheus:" + listen.rsplit(":", 1)[1]
