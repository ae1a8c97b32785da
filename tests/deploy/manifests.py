"""Load what the deploy files ask to run: compose.yaml as `docker compose config` would resolve it, the
Helm chart as `helm template` renders it, and each wubloader container's command line and environment.

No Docker engine or Kubernetes cluster exists here: the checks stop at what can be proved without
them (schemas, references, and that every invocation parses with our own CLI parser).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
CHART = ROOT / "deploy" / "helm" / "wubloader"
HELM = Path(sys.executable).parent / "helm"
WUBLOADER_IMAGE_VAR = "${WUBLOADER_IMAGE"

# What an operator puts in .env (deploy/compose/env.example): the compose file needs these set.
COMPOSE_ENV = {
    "WUBLOADER_CHANNEL": "mychannel",
    "WUBLOADER_SOURCE": "https://live.example/mychannel/master.m3u8",
}
# The values an operator gives `helm install` (deploy/README.md).
HELM_VALUES = {
    "database.url": "postgresql://wubloader:pw@db.example:5432/wubloader",
    "channel": "mychannel",
    "source": "https://live.example/mychannel/master.m3u8",
}

_VARIABLE = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(ValueError):
    """A `${VAR:?message}` whose variable is unset: compose refuses the file with that message."""


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable syntax: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
    `${VAR:?error}`, `${VAR?error}` (the `:` forms treat an empty variable as unset)."""

    def replace(match: re.Match[str]) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        if bare:
            return env.get(bare, "")
        value = env.get(name)
        unset = value is None or (operator is not None and operator.startswith(":") and value == "")
        if operator is None or not unset:
            return value or ""
        if operator.endswith("-"):
            return interpolate(argument, env)
        raise InterpolationError(f"required variable {name} is missing a value: {argument}")

    return _VARIABLE.sub(replace, text)


def _interpolate_tree(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    return node


def compose_raw() -> dict[str, Any]:
    """compose.yaml as written (YAML anchors and merge keys resolved, variables not)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def compose_config(env: dict[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml resolved like `docker compose config`: anchors merged, variables interpolated."""
    resolved: dict[str, Any] = _interpolate_tree(compose_raw(), COMPOSE_ENV if env is None else env)
    return resolved


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, timeout=120, check=False)


def helm_template(values: dict[str, str] | None = None, release: str = "wb") -> list[dict[str, Any]]:
    """The chart rendered by `helm template` with --set values; raises with helm's message if it fails."""
    sets = [f"--set={key}={value}" for key, value in (HELM_VALUES if values is None else values).items()]
    result = helm("template", release, str(CHART), "--namespace=archive", *sets)
    if result.returncode != 0:
        raise AssertionError(f"helm template failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@dataclass
class Invocation:
    """One wubloader process a deploy file starts: where it is declared, its argv and environment.

    `files` maps paths inside the container (mounted configs and secrets) to the host file holding
    their content, so a check can parse the invocation as the container would.
    """

    where: str
    argv: list[str]
    env: dict[str, str]
    files: dict[str, Path] = field(default_factory=dict)
    healthchecks: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, port, path)
    check_command: list[str] = field(default_factory=list)  # compose's healthcheck test, after "CMD"


_HEALTH_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/[A-Za-z0-9_/-]*)")


def compose_invocations(config: dict[str, Any], secrets_dir: Path) -> list[Invocation]:
    """Every compose service that runs our image, with mounted configs/secrets mapped to host files.

    Secret files are written by the operator, so `secrets_dir` supplies stand-ins for them.
    """
    found = []
    for name, service in config["services"].items():
        if not str(compose_raw()["services"][name].get("image", "")).startswith(WUBLOADER_IMAGE_VAR):
            continue
        files = {}
        for mount in service.get("configs", []):
            files[mount["target"]] = ROOT / config["configs"][mount["source"]]["file"]
        for secret in service.get("secrets", []):
            files[f"/run/secrets/{secret}"] = secrets_dir / secret
        checks = []
        test = service.get("healthcheck", {}).get("test")
        if test:
            for port, path in _HEALTH_URL.findall(" ".join(test)):
                checks.append(("healthcheck", int(port), path))
        env = {key: str(value) for key, value in service.get("environment", {}).items()}
        command = list(test[1:]) if test else []
        found.append(
            Invocation(f"compose service {name}", list(service["command"]), env, files, checks, command)
        )
    return found


def helm_invocations(docs: list[dict[str, Any]], config_dir: Path, db_url: str) -> list[Invocation]:
    """Every container of the rendered workloads; ConfigMap volumes are written into `config_dir`."""
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    found = []
    for doc in docs:
        if doc["kind"] not in ("StatefulSet", "Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for container in pod["containers"]:
            files = {}
            for mount in container.get("volumeMounts", []):
                volume = volumes.get(mount["name"], {})
                if "configMap" in volume:
                    for key, text in configmaps[volume["configMap"]["name"]].items():
                        host = config_dir / volume["configMap"]["name"] / key
                        host.parent.mkdir(parents=True, exist_ok=True)
                        host.write_text(text)
                        files[f"{mount['mountPath']}/{key}"] = host
            ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
            checks = []
            for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                probe = container.get(kind, {}).get("httpGet")
                if probe:
                    checks.append((kind, ports.get(probe["port"], probe["port"]), probe["path"]))
            env = _container_env(container, db_url, pod_name=f"{doc['metadata']['name']}-0")
            where = f"{doc['kind']} {doc['metadata']['name']} container {container['name']}"
            found.append(Invocation(where, list(container["args"]), env, files, checks))
    return found


def _container_env(container: dict[str, Any], db_url: str, pod_name: str) -> dict[str, str]:
    """The container's environment as the kubelet sets it: secrets and pod fields filled, $(VAR) expanded."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        source = item.get("valueFrom", {})
        if "secretKeyRef" in source:
            value = db_url
        elif "fieldRef" in source:
            value = {"metadata.name": pod_name}[source["fieldRef"]["fieldPath"]]
        else:
            value = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), item["value"])
        env[item["name"]] = value
    return env
