"""`wubloader tombstone add|status|purge` across three real node processes with real media."""

from datetime import timedelta

import pytest

from tests.backfiller.snapshots import visible
from tests.conftest import STORE_START
from tests.harness.media import store_clip
from tests.maintenance.cluster import Cluster, file_sizes, wubloader
from wubloader.store.tombstones import read_note

pytestmark = pytest.mark.slow


def _minute(n: int) -> str:
    return (STORE_START + timedelta(minutes=n)).isoformat()


def test_delete_one_minute_cluster_wide(tmp_path, clip, components):
    cluster = Cluster(tmp_path, "abc", components)
    for base in cluster.bases.values():
        store_clip(base, clip, STORE_START, repeat=3)  # 10:00 to 10:03, 2 s segments
    cluster.start()
    a = cluster.bases["a"]
    added = wubloader(
        "tombstone", "add", "--base-dir", a, "--channel", "chan", "--start", _minute(1), "--end", _minute(2),
        "--reason", "leaked address",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    doomed = sorted(p.relative_to(a) for p in a.rglob("*.tombstone"))
    assert len(doomed) == 30 and "30 tombstones added" in added.stdout
    note = read_note(a / doomed[0])
    assert note is not None and note.reason == "leaked address"
    assert all(f"{_minute(1)[:13]}" in str(p.parent) for p in doomed)

    early = wubloader("tombstone", "status", "--base-dir", a, "--nodes", cluster.others("a"))
    assert early.returncode == 1 and "0 of 30 tombstones are on every node" in early.stdout
    assert "segment still visible on" in early.stdout

    cluster.backfill_all()
    status = wubloader("tombstone", "status", "--base-dir", a, "--nodes", cluster.others("a"))
    assert status.returncode == 0, status.stdout + status.stderr
    assert "30 of 30 tombstones are on every node" in status.stdout

    hidden = {str(p.with_suffix(".ts")) for p in doomed}
    for name, base in cluster.bases.items():
        before = file_sizes(base)
        assert hidden <= set(before)
        dry = wubloader(
            "tombstone", "purge", "--base-dir", base, "--nodes", cluster.others(name), "--dry-run"
        )
        assert dry.returncode == 0 and file_sizes(base) == before
        purged = wubloader("tombstone", "purge", "--base-dir", base, "--nodes", cluster.others(name))
        assert purged.returncode == 0, purged.stdout + purged.stderr
        after = file_sizes(base)
        assert set(before) - set(after) == hidden  # exactly those files, nothing else
        freed = sum(before[h] for h in hidden)
        assert f"freed 30 files, {freed} bytes" in purged.stdout
        assert all(str(p) in after for p in doomed)  # tombstones stay

    snapshot = {name: file_sizes(base) for name, base in cluster.bases.items()}
    cluster.backfill_all()
    assert {name: file_sizes(base) for name, base in cluster.bases.items()} == snapshot
    assert visible(cluster.bases["a"]) == visible(cluster.bases["b"]) == visible(cluster.bases["c"])


def test_purge_with_a_peer_down_deletes_nothing(tmp_path, clip, components):
    cluster = Cluster(tmp_path, "abc", components)
    for base in cluster.bases.values():
        store_clip(base, clip, STORE_START)
    cluster.start()
    a = cluster.bases["a"]
    added = wubloader(
        "tombstone", "add", "--base-dir", a, "--channel", "chan", "--start", _minute(0), "--end", _minute(1)
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    cluster.backfill_all()
    nodes = cluster.others("a")
    cluster.nodes["c"].stop()
    before = {name: file_sizes(base) for name, base in cluster.bases.items()}
    purged = wubloader("tombstone", "purge", "--base-dir", a, "--nodes", nodes)
    assert purged.returncode == 1
    assert "nothing deleted" in purged.stdout and cluster.nodes["c"].url in purged.stdout
    assert {name: file_sizes(base) for name, base in cluster.bases.items()} == before
