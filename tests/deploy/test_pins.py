"""Every Python package comes at the exact version pinned in constraints.txt (written by bin/lock-python)."""

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as canonical
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
# Installed by the venv itself or by pip for the editable build, never imported by wubloader.
UNPINNED = {"pip", "setuptools", "wheel", "wubloader"}


def pins() -> dict[str, Version]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            found[canonical(name)] = Version(version)
    return found


def test_every_installed_package_is_at_its_pinned_version():
    pinned = pins()
    installed = {canonical(d.metadata["Name"]): Version(d.version) for d in metadata.distributions()}
    wrong = {
        name: (str(version), str(pinned.get(name)))
        for name, version in installed.items()
        if name not in UNPINNED and pinned.get(name) != version
    }
    assert not wrong, f"installed vs pinned (run bin/setup, or bin/lock-python to re-pin): {wrong}"


def test_every_declared_dependency_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pinned = pins()
    for text in declared:
        requirement = Requirement(text)
        name = canonical(requirement.name)
        assert name in pinned, f"{requirement.name} is declared in pyproject.toml but not pinned"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} is outside {text!r}"
