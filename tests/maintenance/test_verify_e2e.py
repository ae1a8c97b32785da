"""`wubloader verify` and the node's continuous scrub: corrupt files are quarantined and backfill restores them."""

from pathlib import Path

import pytest

from tests.backfiller.snapshots import visible
from tests.conftest import STORE_START
from tests.harness.media import store_clip
from tests.harness.processes import free_port, start_component, wait_until
from tests.maintenance.cluster import Cluster, file_sizes, wubloader
from tests.maintenance.node_metrics import metric_total
from wubloader.store.quarantine import QUARANTINE_DIR

pytestmark = pytest.mark.slow


def flip_byte(path: Path, offset: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_fix_quarantines_and_backfill_restores(tmp_path, clip, components):
    cluster = Cluster(tmp_path, "ab", components)
    for base in cluster.bases.values():
        store_clip(base, clip, STORE_START)
    a = cluster.bases["a"]
    good = visible(a)
    victims = sorted(a.rglob("*.ts"))[3:12:7]
    for path in victims:
        flip_byte(path)
    before = file_sizes(a)

    check = wubloader("verify", "--base-dir", a)
    assert check.returncode == 1
    assert check.stdout.count("CORRUPT") == 2 and file_sizes(a) == before
    assert f"verified {len(good)} files" in check.stdout

    fixed = wubloader("verify", "--base-dir", a, "--fix", "--max-rate", "500")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "2 corrupt, 2 quarantined" in fixed.stdout
    for path in victims:
        assert not path.exists()
        assert (a / QUARANTINE_DIR / path.relative_to(a)).exists()
    assert len(visible(a)) == len(good) - 2

    cluster.start("b")
    done = wubloader("backfiller", "--base-dir", a, "--nodes", cluster.nodes["b"].url, "--once")
    assert done.returncode == 0, done.stderr[-2000:]
    assert visible(a) == good  # byte for byte
    again = wubloader("verify", "--base-dir", a)
    assert again.returncode == 0 and "0 corrupt" in again.stdout


def test_node_scrub_quarantines_and_counts(tmp_path, clip, components):
    base = tmp_path / "a"
    paths = store_clip(base, clip, STORE_START)
    flip_byte(paths[5])
    port = free_port()
    args = ["node", "--base-dir", str(base), "--port", str(port), "--scrub-rate", "50"]
    node = start_component(args, tmp_path / "logs", port=port)
    components.append(node)
    quarantined = base / QUARANTINE_DIR / paths[5].relative_to(base)
    wait_until(quarantined.exists, 60, message="the corrupt file quarantined")
    wait_until(lambda: metric_total(node.url, "wubloader_scrub_passes_total") >= 1, 60, message="a pass")
    assert metric_total(node.url, "wubloader_scrub_files_total", 'result="corrupt"') == 1
    assert metric_total(node.url, "wubloader_scrub_files_total", 'result="ok"') == len(paths) - 1
    assert all(p.exists() for i, p in enumerate(paths) if i != 5)
    assert node.stop() == 0
