"""Retention: `wubloader prune` and `wubloader node --keep` delete old hours, and backfill never refetches them."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.store_builder import build_store
from tests.maintenance.cluster import Cluster, file_sizes, wubloader
from tests.maintenance.node_metrics import metric_total
from wubloader.backfiller.config import StartBound
from wubloader.node.app import retention_start
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.timeparse import now_utc
from wubloader.store import create_tombstone
from wubloader.store.naming import hour_name


def hours_ago(hours: float) -> datetime:
    return now_utc().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)


def hour_dir(base: Path, when: datetime) -> Path:
    return base / "chan" / "source" / hour_name(when)


def test_prune_deletes_whole_old_hours_with_their_tombstones(tmp_path):
    base = tmp_path / "a"
    old, recent = hours_ago(10), hours_ago(3)
    create_tombstone(build_store(base, old, 5)[0])
    build_store(base, recent, 5)
    before = file_sizes(base)
    dry = wubloader("prune", "--base-dir", base, "--keep", "5", "--dry-run")
    assert dry.returncode == 0 and "would delete 1 hours" in dry.stdout
    assert file_sizes(base) == before
    done = wubloader("prune", "--base-dir", base, "--keep", "5")
    assert done.returncode == 0, done.stderr
    assert not hour_dir(base, old).exists()
    freed = sum(size for rel, size in before.items() if rel.startswith(f"chan/source/{hour_name(old)}/"))
    assert f"(6 files, {freed} bytes)" in done.stdout
    assert file_sizes(base) == {k: v for k, v in before.items() if hour_name(old) not in k}


@pytest.mark.parametrize("keep", ["0.5", "-3", "soon", "nan"])
def test_prune_refuses_a_bad_keep(tmp_path, keep):
    build_store(tmp_path, hours_ago(10), 2)
    before = file_sizes(tmp_path)
    done = wubloader("prune", "--base-dir", tmp_path, "--keep", keep)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert file_sizes(tmp_path) == before


def test_retention_bounds_backfill():
    assert retention_start(None, 48.0) == StartBound(hours=48.0)
    assert retention_start(StartBound(hours=100.0), 48.0) == StartBound(hours=48.0)
    assert retention_start(StartBound(hours=10.0), 48.0) == StartBound(hours=10.0)
    assert retention_start(StartBound(hours=10.0), None) == StartBound(hours=10.0)
    with pytest.raises(RuntimeConfigError):
        retention_start(StartBound(at=datetime(2024, 1, 1)), 48.0)


def test_node_with_keep_prunes_and_never_refetches(tmp_path, components):
    cluster = Cluster(tmp_path, "p", components)
    peer = cluster.bases["p"]
    old, recent = hours_ago(10), hours_ago(2)
    build_store(peer, old, 5)
    build_store(peer, recent, 5)
    cluster.start("p")
    base = tmp_path / "a"
    build_store(base, old, 3)  # already past retention here
    port = free_port()
    args = ["node", "--base-dir", str(base), "--port", str(port), "--nodes", cluster.nodes["p"].url]
    node = start_component([*args, "--keep", "5", "--pass-interval", "0.2"], tmp_path / "logs", port=port)
    components.append(node)
    wait_until(lambda: not hour_dir(base, old).exists(), 60, message="the old local hour pruned")
    wait_until(lambda: metric_total(node.url, "wubloader_backfill_passes_total") >= 3, 60, message="passes")
    assert len(list(hour_dir(base, recent).iterdir())) == 5
    assert not hour_dir(base, old).exists()
    assert metric_total(node.url, "wubloader_retention_hours_deleted_total") == 1
    assert node.stop() == 0
