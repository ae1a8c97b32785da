"""The Backfiller in-process against small real HTTP peers: copying, tombstones, verification, retries, caches."""

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from tests.backfiller.peer_server import PeerServer
from tests.backfiller.peer_server import backfill_config as config
from tests.backfiller.peer_server import make_backfiller as backfiller
from tests.backfiller.snapshots import all_files, temp_files, tombstones, visible
from tests.conftest import STORE_START
from tests.harness.store_builder import build_store, write_segment
from wubloader.backfiller import StartBound, peer_from_url
from wubloader.store import create_tombstone


def age(base: Path, seconds: float = 3600) -> None:
    """Make every directory look last modified long ago (as settled past hours are)."""
    past = os.stat(base).st_mtime - seconds
    for path in [base, *base.rglob("*")]:
        if path.is_dir():
            os.utime(path, (past, past))


async def test_copies_segments_and_tombstones_but_never_a_tombstoned_segment(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    paths = build_store(remote, STORE_START + timedelta(minutes=58), 120)  # spans 10:58 → 11:02
    hidden = paths[5]
    create_tombstone(hidden)
    server = await peers(remote)
    result = await backfiller(config(local), session, server).run_once()
    assert result.complete and result.copied == 119 and result.tombstones == 1 and result.missing == 0
    assert visible(local) == visible(remote) and len(visible(local)) == 119
    assert tombstones(local) == tombstones(remote)
    assert str(hidden.relative_to(remote)) not in all_files(local)
    assert server.segment_requests(hidden.name) == 0
    assert temp_files(local) == []


async def test_tombstone_only_hour_the_local_node_lacks(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    older = build_store(remote, STORE_START - timedelta(hours=2), 3)
    gone = build_store(remote, STORE_START, 3)
    for path in gone:
        create_tombstone(path)
        path.unlink()  # an operator purged the hidden files: the hour holds only tombstones
    result = await backfiller(config(local), session, await peers(remote)).run_once()
    assert result.complete and result.tombstones == 3 and result.copied == 3
    assert tombstones(local) == tombstones(remote) and len(tombstones(local)) == 3
    assert visible(local) == visible(remote) and len(older) == 3


async def test_corrupted_file_is_never_stored_and_not_refetched_from_that_peer(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    paths = build_store(remote, STORE_START, 10)
    paths[3].write_bytes(b"wrong bytes under the right name")
    server = await peers(remote)
    node = backfiller(config(local), session, server)
    first = await node.run_once()
    assert not first.complete and first.missing == 1 and first.hash_mismatches == 1 and first.copied == 9
    assert paths[3].name not in os.listdir(local / "chan/source/2024-05-01T10")
    assert temp_files(local) == []
    second = await node.run_once()
    assert second.missing == 1 and second.hash_mismatches == 0 and second.copied == 0
    assert server.segment_requests(paths[3].name) == 1


async def test_corrupted_copy_falls_back_to_a_peer_with_the_right_bytes(tmp_path, session, peers):
    bad, good, local = tmp_path / "bad", tmp_path / "good", tmp_path / "local"
    paths = build_store(bad, STORE_START, 6)
    build_store(good, STORE_START, 6)
    for path in paths:
        path.write_bytes(b"corrupt")
    result = await backfiller(config(local), session, await peers(bad), await peers(good)).run_once()
    assert result.complete and result.copied == 6
    assert visible(local) == visible(good)


async def test_failing_file_is_retried_with_backoff_and_others_complete(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    paths = build_store(remote, STORE_START, 8)
    server = await peers(remote)
    server.fail_segments[paths[2].name] = 2
    result = await backfiller(config(local), session, server).run_once()
    assert result.complete and result.copied == 8
    assert server.segment_requests(paths[2].name) == 3
    assert visible(local) == visible(remote)


async def test_once_reports_missing_when_retries_run_out(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    paths = build_store(remote, STORE_START, 4)
    server = await peers(remote)
    server.fail_segments[paths[0].name] = 100
    result = await backfiller(config(local, retry_attempts=3), session, server).run_once()
    assert not result.complete and result.missing == 1 and result.copied == 3
    assert server.segment_requests(paths[0].name) == 3


async def test_unreachable_peer_makes_the_pass_incomplete_but_others_are_copied(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 4)
    good = await peers(remote)
    dead = PeerServer(tmp_path)
    dead.url = "http://127.0.0.1:9"  # discard port: connection refused
    result = await backfiller(config(local), session, good, dead).run_once()
    assert result.copied == 4 and result.listing_errors == 1 and not result.complete
    assert result.failed_peers == ("127.0.0.1:9",)


async def test_recent_segments_wait_unless_the_channel_is_not_downloaded_here(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 60)  # 10:00:00 → 10:02:00
    server = await peers(remote)
    now = STORE_START + timedelta(minutes=3)  # cutoff 120 s: segments after 10:01:00 are too recent
    waiting = await backfiller(config(local), session, server, now=lambda: now).run_once()
    assert waiting.copied == 31 and waiting.deferred_recent == 29 and waiting.complete
    other = config(local, downloaded_channels=frozenset({"another"}))
    rest = await backfiller(other, session, server, now=lambda: now).run_once()
    assert rest.copied == 29 and visible(local) == visible(remote)


async def test_start_bound_skips_older_hours(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START - timedelta(hours=3), 2)
    build_store(remote, STORE_START, 2)
    cfg = config(local, start=StartBound(at=STORE_START - timedelta(minutes=30)))
    result = await backfiller(cfg, session, await peers(remote)).run_once()
    assert result.complete and result.copied == 2
    assert {k.split("/")[2] for k in visible(local)} == {"2024-05-01T10"}


async def test_excludes_itself_by_url_and_by_name(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 2)
    server = await peers(remote)
    by_url = backfiller(config(local), session, server, self_url=server.url + "/")
    assert (await by_url.run_once()).copied == 0 and by_url.peers == []
    name = peer_from_url(server.url).name
    by_name = backfiller(config(local), session, server, self_name=name)
    assert (await by_name.run_once()).copied == 0 and by_name.peers == []


async def test_unchanged_past_hours_are_not_rediffed(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 900, duration=12.0)  # three full hours
    server = await peers(remote)
    node = backfiller(config(local, past_hour_relist=0), session, server)
    assert (await node.run_once()).copied == 900
    age(local)
    settled = await node.run_once()
    assert settled.copied == 0 and settled.hours_diffed == 3 and settled.complete
    again = await node.run_once()
    assert again.hours_diffed == 0 and again.hours_unchanged == 3 and again.complete
    # a new tombstone on the peer changes that hour's listing: only it is diffed, and it is copied
    create_tombstone(next((remote / "chan/source/2024-05-01T11").iterdir()))
    changed = await node.run_once()
    assert changed.hours_diffed == 1 and changed.tombstones == 1 and tombstones(local) == tombstones(remote)


async def test_segment_written_locally_meanwhile_is_not_fetched(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 3)
    write_segment(local, STORE_START)  # the same name, e.g. from the local downloader
    server = await peers(remote)
    result = await backfiller(config(local), session, server).run_once()
    assert result.complete and result.copied == 2
    assert visible(local) == visible(remote)


async def test_each_missing_segment_is_fetched_from_one_peer_only(tmp_path, session, peers):
    one, two, local = tmp_path / "one", tmp_path / "two", tmp_path / "local"
    paths = build_store(one, STORE_START, 40)
    build_store(two, STORE_START, 40)
    servers = [await peers(one), await peers(two)]
    result = await backfiller(config(local, concurrency=2), session, *servers).run_once()
    assert result.complete and result.copied == 40
    for path in paths:
        assert sum(s.segment_requests(path.name) for s in servers) == 1
    assert all(any(r.startswith("/segments/") for r in s.requests) for s in servers)  # load is spread


async def test_downloads_keep_their_connections_alive(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 30)
    server = await peers(remote)
    result = await backfiller(config(local, concurrency=2), session, server).run_once()
    assert result.complete and result.copied == 30 and visible(local) == visible(remote)
    assert 1 <= len(server.segment_clients) <= 2  # one connection per download slot, reused


async def test_past_hours_in_sync_are_not_relisted_until_the_relist_interval(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 600, duration=12.0)  # two past hours
    server = await peers(remote)
    clock = [1000.0]
    node = backfiller(config(local, past_hour_relist=300), session, server, monotonic=lambda: clock[0])
    assert (await node.run_once()).copied == 600
    age(local)
    assert (await node.run_once()).hours_diffed == 2  # found in sync: remembered
    server.requests.clear()
    quiet = await node.run_once()
    assert quiet.complete and quiet.hours_unchanged == 2 and quiet.hours_diffed == 0
    assert not any("tombstones=true" in r for r in server.requests)  # no hour listing at all
    create_tombstone(next((remote / "chan/source/2024-05-01T10").iterdir()))
    clock[0] += 301
    later = await node.run_once()
    assert later.hours_diffed == 1 and later.tombstones == 1 and tombstones(local) == tombstones(remote)


async def test_local_write_errors_make_the_pass_incomplete_without_stopping_other_channels(
    tmp_path, session, peers
):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 4, channel="blocked")
    create_tombstone(build_store(remote, STORE_START + timedelta(hours=1), 1, channel="blocked")[0])
    build_store(remote, STORE_START, 4, channel="fine")
    local.mkdir()
    (local / "blocked").write_bytes(b"a file where the channel directory should be")
    result = await backfiller(config(local, retry_attempts=2), session, await peers(remote)).run_once()
    assert not result.complete and result.local_errors >= 2 and result.missing == 4
    assert result.copied == 4 and visible(local) == {
        k: v for k, v in visible(remote).items() if k.startswith("fine/")
    }


async def test_failing_peer_trips_its_breaker_and_files_come_from_the_other(tmp_path, session, peers):
    sick_base, good_base, local = tmp_path / "sick", tmp_path / "good", tmp_path / "local"
    paths = build_store(sick_base, STORE_START, 40)
    build_store(good_base, STORE_START, 40)
    sick, good = await peers(sick_base), await peers(good_base)
    for path in paths:
        sick.fail_segments[path.name] = 1000
    cfg = config(local, concurrency=2, breaker_threshold=3, breaker_initial=60.0)
    result = await backfiller(cfg, session, sick, good).run_once()
    assert result.complete and result.copied == 40 and visible(local) == visible(good_base)
    sick_fetches = sum(1 for r in sick.requests if r.startswith("/segments/"))
    assert 3 <= sick_fetches <= 3 + 2  # the threshold, plus requests already in flight when it tripped


async def test_stop_finishes_in_flight_copies_and_leaves_no_temp_files(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    for index in range(30):
        write_segment(remote, STORE_START + timedelta(seconds=2 * index), content=os.urandom(20_000))
    stop = asyncio.Event()
    node = backfiller(config(local, max_rate=100_000, concurrency=2), session, await peers(remote), stop=stop)
    task = asyncio.create_task(node.run())
    while len(visible(local)) < 3:
        await asyncio.sleep(0.02)
    stop.set()
    async with asyncio.timeout(10):
        await task
    copied = visible(local)
    assert 3 <= len(copied) < 30 and temp_files(local) == []
    assert all(copied[k] == v for k, v in visible(remote).items() if k in copied)


async def test_once_asks_a_peer_again_after_a_transient_listing_error(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 3)
    server = await peers(remote)
    server.fail_listings = 1
    result = await backfiller(config(local), session, server).run_once()
    assert result.complete and result.copied == 3 and result.listing_errors == 0
