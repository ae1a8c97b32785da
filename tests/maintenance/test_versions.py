"""Bad versions: the keep rule (pure) and `wubloader versions --fix` across five real nodes."""

from datetime import timedelta

from tests.backfiller.snapshots import visible
from tests.conftest import STORE_START
from tests.harness.store_builder import build_store, write_segment
from tests.maintenance.cluster import Cluster, wubloader
from wubloader.maintenance.versions import Version, choose_version
from wubloader.store import SegmentType, parse_segment_path


def version(name: str, *holders: str) -> Version:
    return Version(segment=parse_segment_path(f"c/q/2024-05-01T10/{name}.ts"), holders=holders)


H = "A" * 43


def test_keep_rule_full_then_holders_then_longest_then_name():
    full = version(f"00:10.000000-2.0-full-{H}", "x")
    suspect = version(f"00:10.000000-2.0-suspect-{H}", "x", "y", "z")
    partial = version(f"00:10.000000-3.0-partial-{H}", "x", "y", "z")
    assert choose_version([partial, suspect, full]) is full
    assert choose_version([partial, suspect]) is suspect
    many = version(f"00:10.000000-2.0-full-{'B' * 43}", "x", "y")
    assert choose_version([full, many]) is many
    longer = version(f"00:10.000000-2.5-full-{'C' * 43}", "x", "y")
    assert choose_version([many, longer]) is longer
    twin = version(f"00:10.000000-2.5-full-{'D' * 43}", "x", "y")
    assert choose_version([twin, longer]) is longer and choose_version([longer, twin]) is longer


def test_versions_fix_keeps_the_full_one_everywhere(tmp_path, components):
    cluster = Cluster(tmp_path, "abcde", components)
    moment = STORE_START + timedelta(seconds=10)
    lonely = STORE_START + timedelta(seconds=40)
    for base in cluster.bases.values():
        build_store(base, STORE_START, 30, skip={5, 20})
    suspect = {
        name: write_segment(
            cluster.bases[name], moment, content=f"bad {name}".encode(), type=SegmentType.SUSPECT
        )
        for name in "ab"
    }
    fulls = [write_segment(cluster.bases[name], moment, content=b"good") for name in "cde"]
    full = fulls[0]
    only = write_segment(cluster.bases["c"], lonely, 2.0, content=b"only", type=SegmentType.SUSPECT)
    cluster.start()
    a = cluster.bases["a"]

    report = wubloader("versions", "--base-dir", a, "--nodes", cluster.others("a"))
    assert report.returncode == 0, report.stderr
    assert "1 moments with several versions; 2 to tombstone" in report.stdout
    assert f"keep      {full.name} (full, on 3 nodes)" in report.stdout
    assert not list(a.rglob("*.tombstone"))

    fixed = wubloader("versions", "--base-dir", a, "--nodes", cluster.others("a"), "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert "2 versions tombstoned here" in fixed.stdout
    cluster.backfill_all()
    rel_full = str(full.relative_to(cluster.bases["c"]))
    rel_only = str(only.relative_to(cluster.bases["c"]))
    hour = rel_full.rsplit("/", 1)[0]
    for name, base in cluster.bases.items():
        shown = visible(base)
        at_moment = [rel for rel in shown if rel.startswith(f"{hour}/00:10.")]
        assert at_moment == [rel_full], name
        assert shown[rel_full] == b"good"
        assert shown[rel_only] == b"only"  # the only version of its moment: untouched, spread
        assert {p.name for p in base.rglob("*.tombstone")} == {
            p.with_suffix(".tombstone").name for p in suspect.values()
        }
    again = wubloader("versions", "--base-dir", a, "--nodes", cluster.others("a"))
    assert "0 moments with several versions" in again.stdout
