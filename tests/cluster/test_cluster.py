"""A real three-node cluster (tests/harness/cluster.py): exactly-once publishing, a node's death, tombstones,
the database crashing.

One cluster serves the whole module (start-up costs ~10 s of a loaded machine); every test leaves it
running and healthy, so they pass in any order. Slow: the module runs ~1.5-3 minutes of wall time, most
of it the live source producing segments in real time (an outage must span many of them).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from tests.downloader.support import SourceSegment, source_truth
from tests.harness.cluster import CHANNEL, LOCATION, QUALITY, WINDOW, Cluster, ClusterNode, start_cluster
from tests.harness.media import probe_duration
from tests.harness.postgres import PostgresServer, start_postgres
from tests.harness.processes import wait_until
from wubloader.runtime.timeparse import format_utc
from wubloader.store import SegmentType, hash_bytes
from wubloader.store.naming import Segment, parse_segment_path, tombstone_name

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow, pytest.mark.timeout(400)]

# The outage, in source segments (1 s each). A 30 s outage would cost twice the wall time per run and
# prove nothing more: what matters is that the gap outlasts the origin's window (WINDOW segments) by
# many segments, so A can only get most of it back from a peer, never from the source.
OUTAGE = WINDOW + 10


@pytest.fixture(scope="module")
def cluster_postgres():
    """The cluster's own PostgreSQL server (the suite's harness, another instance): the failover test
    crashes it, which must not cut off the connections of other tests sharing the session's server."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, cluster_postgres):
    with start_cluster(tmp_path_factory.mktemp("cluster"), cluster_postgres) as running:
        yield running


def truth(cluster: Cluster) -> list[SourceSegment]:
    return source_truth(cluster.encoder_dir)


def wait_segments(cluster: Cluster, count: int) -> list[SourceSegment]:
    """Wait for the source to have produced `count` segments; all it has produced so far."""
    wait_until(lambda: cluster.encoded() >= count, 120, message=f"the source's segment {count}")
    return truth(cluster)


def stored_segments(node: ClusterNode) -> list[Segment]:
    """Every segment file in the node's store (tombstones, hidden notes and temp files skipped)."""
    root = node.base / CHANNEL / QUALITY
    if not root.exists():
        return []
    names = [root / hour / name for hour in os.listdir(root) for name in os.listdir(root / hour)]
    return [
        parse_segment_path(p)
        for p in names
        if p.suffix == ".ts" and not p.name.startswith(".") and "-temp-" not in p.name
    ]


def holds(node: ClusterNode, segments: list[SourceSegment]) -> bool:
    """The node's store has a full copy of each of these source segments."""
    have = {(s.start, s.hash) for s in stored_segments(node) if s.type == SegmentType.FULL}
    return all((s.start, s.hash) in have for s in segments)


def wait_everywhere(cluster: Cluster, segments: list[SourceSegment]) -> None:
    for node in cluster.nodes.values():
        wait_until(
            lambda node=node: holds(node, segments), 120, message=f"node {node.name} to hold the segments"
        )


def http_json(url: str, body: object | None = None, token: str | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wubloader", *args], capture_output=True, text=True, timeout=120
    )


def published(node: ClusterNode, title: str) -> list[Path]:
    """Finished videos of this title in the node's local location (hidden part files excluded)."""
    if not node.videos.exists():
        return []
    return sorted(
        p for p in node.videos.glob(f"{title.replace(' ', '_')}-*.ts") if not p.name.startswith(".")
    )


def uploads(cluster: Cluster) -> dict[str, float]:
    return {
        n: metric(cutter_metrics_url(node), "cutter_videos_uploaded_total")
        for n, node in cluster.nodes.items()
    }


def submit_edit(
    cluster: Cluster, event_id: str, segments: list[SourceSegment], title: str, directory: Path
) -> None:
    """Import the event (CLI), then submit an edit of `segments` through A's editing API."""
    events = directory / f"{event_id}.csv"
    events.write_text("id,sheet_name,event_start,event_end,category,description,notes,tags\n"
                      f"{event_id},Day 1,,,Chat,A chat,,a\n")  # fmt: skip
    assert cli("events", "import", "--db", cluster.db_url, str(events)).returncode == 0
    editor = cluster.nodes["A"].editor_url
    row = http_json(f"{editor}/thrimshim/{event_id}")
    assert isinstance(row, dict)
    start, end = segments[0].start, segments[-1].start + timedelta(seconds=float(segments[-1].duration_text))
    sheet = ("sheet_name", "event_start", "event_end", "category", "description", "notes", "tags")
    body = {key: row[key] for key in sheet}
    body |= {"upload_location": LOCATION, "video_ranges": [[format_utc(start), format_utc(end)]],
             "video_transitions": [], "video_channel": CHANNEL, "video_quality": QUALITY,
             "video_title": title, "video_description": "cut by one of three", "video_tags": ["t"],
             "thumbnail_mode": "NONE", "public": True, "state": "EDITED"}  # fmt: skip
    http_json(f"{editor}/thrimshim/{event_id}", body, token=cluster.token)


def assert_published_once(
    cluster: Cluster, event_id: str, segments: list[SourceSegment], directory: Path
) -> None:
    """Submit an edit; exactly one cutter publishes it: one DONE row, one file, one upload counted."""
    title = f"Cluster video {event_id}"
    before = uploads(cluster)
    submit_edit(cluster, event_id, segments, title, directory)
    editor = cluster.nodes["A"].editor_url

    def done() -> bool:
        state = http_json(f"{editor}/thrimshim/{event_id}")
        return isinstance(state, dict) and state["state"] == "DONE"

    wait_until(done, 120, interval=0.5, message=f"{event_id} to be published")
    row = http_json(f"{editor}/thrimshim/{event_id}")
    assert isinstance(row, dict)
    videos = {name: published(node, title) for name, node in cluster.nodes.items()}
    assert sum(len(v) for v in videos.values()) == 1, videos
    (winner,) = [name for name, files in videos.items() if files]
    (video,) = videos[winner]
    assert row["uploader"] == winner
    assert row["video_link"] == f"file://{cluster.nodes[winner].videos}/{video.name}"
    duration = (segments[-1].start - segments[0].start).total_seconds() + float(segments[-1].duration_text)
    assert abs(probe_duration(video) - duration) <= 0.1
    # One upload in the whole cluster, counted by the winner's cutter alone.
    after = uploads(cluster)
    assert {n: after[n] - before[n] for n in after} == {n: float(n == winner) for n in after}


def test_an_edit_through_the_api_is_published_exactly_once(cluster, tmp_path):
    segments = wait_segments(cluster, 6)[1:5]
    wait_everywhere(cluster, segments)  # so all three cutters see the job as theirs to take
    assert_published_once(cluster, "ev1", segments, tmp_path)


def cutter_metrics_url(node: ClusterNode) -> str:
    """A's cutter runs inside the node; B's and C's are processes of their own."""
    if node.cutter_metrics_port is None:
        return node.url
    return f"http://127.0.0.1:{node.cutter_metrics_port}"


def metric(url: str, name: str) -> float:
    """The sum over labels of one counter on `url`/metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        text = response.read().decode()
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE))


def store_files(node: ClusterNode, before) -> dict[str, str]:
    """Relative path → content hash of every segment and tombstone starting before `before`."""
    root = node.base / CHANNEL / QUALITY
    files = {}
    for hour in sorted(os.listdir(root)):
        for name in os.listdir(root / hour):
            if name.startswith(".") or "-temp-" in name:
                continue
            stem = name.removesuffix(".tombstone") + ".ts" if name.endswith(".tombstone") else name
            if parse_segment_path(root / hour / stem).start < before:
                files[f"{hour}/{name}"] = hash_bytes((root / hour / name).read_bytes())
    return files


def test_a_killed_node_backfills_its_gap_and_the_stores_converge(cluster):
    a, b = cluster.nodes["A"], cluster.nodes["B"]
    wait_until(lambda: holds(a, wait_segments(cluster, 3)[-2:]), 120, message="A archiving")
    killed_at = cluster.encoded()
    cluster.kill("A")
    wait_segments(cluster, killed_at + OUTAGE)
    restarted_at = cluster.encoded()
    cluster.restart("A")
    # Segments the origin no longer listed when A came back: only a peer can give them to A.
    gone = truth(cluster)[killed_at + 1 : restarted_at - WINDOW]
    assert len(gone) >= OUTAGE - WINDOW - 1
    everything = wait_segments(cluster, restarted_at + 4)
    # B never stopped: every segment the source produced, each with the source's bytes, no hole.
    wait_until(lambda: holds(b, everything), 120, message="B to hold the whole run")
    wait_everywhere(cluster, everything)
    assert metric(a.url, "wubloader_backfill_segments_total") >= len(gone)
    # Byte for byte: the same files (segments and tombstones) with the same contents on all three.
    before = everything[-1].start
    wait_until(lambda: store_files(a, before) == store_files(b, before) == store_files(cluster.nodes["C"], before),
               120, interval=0.5, message="the three stores to converge")  # fmt: skip
    files = store_files(a, before)
    for path, digest in files.items():
        if path.endswith(".ts"):
            assert parse_segment_path(a.base / CHANNEL / QUALITY / path).hash == digest


def test_a_tombstone_made_on_c_reaches_a_and_b(cluster):
    target = wait_segments(cluster, 10)[8]
    wait_everywhere(cluster, [target])
    c = cluster.nodes["C"]
    (path,) = [s.path for s in stored_segments(c) if s.start == target.start and s.type == SegmentType.FULL]
    added = cli("tombstone", "add", "--reason", "cluster test", path)
    assert added.returncode == 0, added.stderr
    relative = Path(path).relative_to(c.base)
    for name in ("A", "B"):
        marker = cluster.nodes[name].base / relative.parent / tombstone_name(relative.name)
        wait_until(marker.exists, 120, message=f"the tombstone on {name}")
    peers = ",".join(cluster.nodes[n].url for n in ("A", "B"))
    status = cli("tombstone", "status", "--base-dir", str(c.base), "--nodes", peers)
    assert status.returncode == 0, status.stdout + status.stderr
    # Hidden everywhere: no node lists the segment any more.
    hour = relative.parent.name
    for node in cluster.nodes.values():
        with urllib.request.urlopen(f"{node.url}/files/{CHANNEL}/{QUALITY}/{hour}", timeout=30) as response:
            assert relative.name not in json.load(response)


def http_status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def all_running(cluster: Cluster) -> bool:
    return all(c.process.poll() is None for c in cluster.components())


def test_the_database_fails_over_and_publishing_goes_on(cluster, cluster_postgres: PostgresServer, tmp_path):
    """The primary dies at once and comes back (crash recovery) on the same address, as a promoted
    standby behind a stable name would: archiving never needed it, the API answers 503 meanwhile, no
    process dies, and the next edit is published exactly once."""
    editor = cluster.nodes["A"].editor_url
    cluster_postgres.crash()
    try:
        assert http_status(f"{editor}/thrimshim") == (503, "database unavailable, try again\n")
        down_at = cluster.encoded()
        wait_everywhere(cluster, wait_segments(cluster, down_at + 3)[down_at:])
        assert all_running(cluster)
    finally:
        cluster_postgres.start()
    wait_until(lambda: http_status(f"{editor}/thrimshim")[0] == 200, 120, message="the API to recover")
    up_at = cluster.encoded()
    segments = wait_segments(cluster, up_at + 5)[up_at : up_at + 4]
    wait_everywhere(cluster, segments)
    assert_published_once(cluster, "ev2", segments, tmp_path)
    assert all_running(cluster)


def downloaded(node: ClusterNode) -> float:
    return metric(node.url, "wubloader_downloader_segments_total")


def test_the_channel_goes_offline_and_comes_back(cluster):
    """The playlist ends, then answers 404; when the channel returns every archiving node resumes by
    itself, and all three hold both parts with the same hole between them, which nobody can fill."""
    wait_segments(cluster, 3)
    archivers = [cluster.nodes["A"], cluster.nodes["B"]]
    ended = cluster.stop_source()
    try:
        # An encoder told to quit may list one last empty, 0 s segment: no node stores that, rightly.
        first = [s for s in source_truth(cluster.encoder_dir, ended) if float(s.duration_text) > 0]
        wait_everywhere(cluster, first)
        cluster.remove_playlist()
        polls = cluster.source.requests["playlist"]
        wait_until(lambda: cluster.source.requests["playlist"] >= polls + 4, 120, message="polls of the 404")
        assert all_running(cluster)
        before = {node.name: downloaded(node) for node in archivers}
    finally:
        cluster.start_source()
    second = wait_segments(cluster, 4)
    wait_everywhere(cluster, second)
    for node in archivers:  # its own downloader, not only backfill from the other
        wait_until(
            lambda node=node: downloaded(node) > before[node.name], 120, message=f"{node.name} resumed"
        )
    gap = (first[-1].start, second[0].start)
    for node in cluster.nodes.values():
        assert [s.path for s in stored_segments(node) if gap[0] < s.start < gap[1]] == []
