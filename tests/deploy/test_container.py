"""The container image definition, compose file and CI workflow follow the project's rules.

No Docker engine runs on the development machine, so the image is linted (hadolint) and checked here,
not built.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(Path(__import__("sys").executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_with_dependencies_before_code():
    ins = instructions()
    froms = [i for i, (word, _) in enumerate(ins) if word == "FROM"][-2:]  # the Python build and final stages
    copies = [(i, args) for i, (word, args) in enumerate(ins) if word == "COPY" and i < froms[1]]
    pyproject_copy = next(i for i, args in copies if "pyproject.toml" in args)
    src_copy = next(i for i, args in copies if args.startswith("src"))
    installs = [i for i, (word, args) in enumerate(ins) if word == "RUN" and "pip install" in args]
    assert pyproject_copy < installs[0] < src_copy < installs[-1]
    # The dependencies at their pinned versions (the last install adds only the code: --no-deps).
    assert "constraints.txt" in ins[pyproject_copy][1]
    assert "pip install --no-cache-dir -c constraints.txt ." in ins[installs[0]][1]
    assert "--no-deps" in ins[installs[-1]][1]


def test_final_stage_rules():
    ins = instructions()
    final = ins[[i for i, (w, _) in enumerate(ins) if w == "FROM"][-1] :]
    labels = " ".join(args for word, args in final if word == "LABEL")
    assert "org.opencontainers.image.source=" in labels
    for key in ("title", "description", "version", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("ENTRYPOINT", '["wubloader"]') in final
    assert any(word == "RUN" and "ffmpeg" in args for word, args in final)


def test_images_and_labels_are_ours_never_the_original_projects():
    """A user must never pull the original project's image by mistake: names come from our CI.

    (test_compose.py checks that each compose service runs ${WUBLOADER_IMAGE…} or a pinned official image.)
    """
    for name in ("Dockerfile", "compose.yaml", "deploy/helm/wubloader/values.yaml"):
        assert "dbvideostriketeam" not in (ROOT / name).read_text().lower()


def test_dockerignore_keeps_context_small():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".venv", "tests"):
        assert entry in ignored


def test_ci_workflow_tests_then_publishes_on_main():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    jobs = workflow["jobs"]
    assert any(step.get("run") == "bin/test" for step in jobs["test"]["steps"])
    image = jobs["image"]
    assert image["needs"] == "test" and "refs/heads/main" in image["if"]
    push = next(s for s in image["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert push["with"]["push"] is True


def test_image_serves_the_editors_vendored_npm_files():
    """The editor refuses to start without hls.js: a stage installs it from the lock file (runtime
    dependencies only) and the build stage puts it where the package data picks it up."""
    ins = instructions()
    froms = [i for i, (word, _) in enumerate(ins) if word == "FROM"]
    npm_stage = ins[froms[0] : froms[1]]
    assert npm_stage[0][1].startswith("node:") and npm_stage[0][1].endswith(" AS editor")
    assert ("COPY", "package.json package-lock.json ./") in npm_stage
    npm = next(args for word, args in npm_stage if word == "RUN")
    assert "npm ci --omit=dev" in npm
    assert "cp node_modules/hls.js/dist/hls.min.mjs vendor/hls.min.js" in npm
    build = ins[froms[1] : froms[2]]
    vendor = ("COPY", "--from=editor /editor/vendor ./src/wubloader/editor/static/vendor")
    assert build.index(vendor) < max(i for i, (w, a) in enumerate(build) if w == "RUN" and "pip install" in a)
    assert "editor/static/*/*" in (ROOT / "pyproject.toml").read_text()  # vendor/ is package data
    # A developer's own copy never slips into the image: the context leaves it out.
    assert "src/wubloader/editor/static/vendor" in (ROOT / ".dockerignore").read_text().split()
    # The names the editor loads are the ones the stage writes (bin/setup writes the same).
    assert "/editor/vendor/hls.min.js" in (ROOT / "src/wubloader/editor/static/js/player.js").read_text()
