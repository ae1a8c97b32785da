"""The Backfiller in-process against hostile or broken peers: one bad item is skipped and counted,
never the pass; bodies, listings, tombstones and transfer times are bounded."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import REGISTRY

from tests.backfiller.peer_server import backfill_config as config
from tests.backfiller.peer_server import make_backfiller as backfiller
from tests.backfiller.snapshots import all_files, temp_files, tombstones, visible
from tests.conftest import STORE_START
from tests.harness.store_builder import build_store, write_segment
from wubloader.backfiller import peer_from_url

HOUR = "chan/source/2024-05-01T10"
HASH = "A" * 43


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def skipped(server, reason: str) -> float:
    peer = peer_from_url(server.url).name
    return counter("wubloader_backfill_skipped_total", peer=peer, reason=reason)


async def test_bad_names_from_one_peer_stop_nothing_and_are_counted(tmp_path, session, peers):
    bad_base, good_base, local = tmp_path / "bad", tmp_path / "good", tmp_path / "local"
    build_store(bad_base, STORE_START, 3)
    build_store(good_base, STORE_START + timedelta(minutes=5), 4)
    bad, good = await peers(bad_base), await peers(good_base)
    bad.extra_names[HOUR] = [
        f"00:10.000000-1e308-full-{HASH}.ts",
        f"00:12.000000-300000000000-full-{HASH}.ts",
        f"00:14.000000-nan-full-{HASH}.ts",
        "00:16.000000-2.0-full-" + "B" * 300 + ".ts",
        "00:18.000000-2.0-full-" + "C" * 300 + ".tombstone",  # a tombstone name over 255 bytes
    ]
    before = skipped(bad, "bad_name")
    result = await backfiller(config(local), session, bad, good).run_once()
    assert result.complete and result.copied == 7 and result.tombstones == 0
    assert visible(local) == {**visible(bad_base), **visible(good_base)}
    assert skipped(bad, "bad_name") - before == 5
    assert not any("e308" in name or "BBBB" in name or "CCCC" in name for name in all_files(local))


async def test_an_unreadable_local_hour_is_skipped_and_the_others_copied(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 3)
    build_store(remote, STORE_START + timedelta(hours=1), 3)
    loop = local / HOUR
    loop.parent.mkdir(parents=True)
    loop.symlink_to(loop.name)  # a symlink loop: stat() fails with ELOOP, even for root
    before = counter("wubloader_backfill_unreadable_hours_total")
    result = await backfiller(config(local), session, await peers(remote)).run_once()
    assert not result.complete and result.local_errors == 1 and result.copied == 3
    assert {k.split("/")[2] for k in visible(local)} == {"2024-05-01T11"}
    assert counter("wubloader_backfill_unreadable_hours_total") - before == 1


async def test_tombstones_per_hour_are_bounded(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 2)
    server = await peers(remote)
    server.extra_names[HOUR] = [
        f"{i // 60:02d}:{i % 60:02d}.500000-2.0-full-{HASH}.tombstone" for i in range(50)
    ]
    before = skipped(server, "tombstone_limit")
    result = await backfiller(config(local, max_tombstones_per_hour=10), session, server).run_once()
    assert result.complete and result.copied == 2 and result.tombstones == 10
    assert len(tombstones(local)) == 10
    assert skipped(server, "tombstone_limit") - before == 40


async def test_a_listing_with_too_many_names_is_refused_before_parsing(tmp_path, session, peers):
    big_base, good_base, local = tmp_path / "big", tmp_path / "good", tmp_path / "local"
    build_store(big_base, STORE_START, 2)
    build_store(good_base, STORE_START + timedelta(minutes=5), 2)
    big, good = await peers(big_base), await peers(good_base)
    big.extra_names[HOUR] = ["x"] * 1000
    result = await backfiller(config(local, max_listing_names=100), session, big, good).run_once()
    assert not result.complete and result.listing_errors == 1 and result.copied == 2
    assert visible(local) == visible(good_base)


async def endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    chunk = b"\0" * 65536
    while True:
        await response.write(chunk)


async def test_an_endless_body_is_cut_off_at_the_bitrate_cap_and_not_fetched_again(tmp_path, session, peers):
    bad_base, good_base, local = tmp_path / "bad", tmp_path / "good", tmp_path / "local"
    paths = build_store(bad_base, STORE_START, 2)
    build_store(good_base, STORE_START, 2)
    bad = await peers(bad_base)
    bad.bodies[paths[0].name] = endless
    cfg = config(local, max_bitrate=1_000_000.0)  # 2 s segments: at most 2 MiB + 250 kB
    node = backfiller(cfg, session, bad)
    before = skipped(bad, "too_large")
    first = await node.run_once()
    assert not first.complete and first.missing == 1 and first.copied == 1
    assert temp_files(local) == [] and skipped(bad, "too_large") - before == 1
    assert (await node.run_once()).missing == 1 and bad.segment_requests(paths[0].name) == 1
    node = backfiller(cfg, session, bad, await peers(good_base))
    assert (await node.run_once()).complete and visible(local) == visible(good_base)


async def drip(request: web.Request) -> web.StreamResponse:
    """Keeps the connection alive with one byte every 50 ms: never a whole segment."""
    response = web.StreamResponse()
    await response.prepare(request)
    while True:
        await response.write(b"\0")
        await asyncio.sleep(0.05)


async def test_a_slow_drip_peer_times_out_on_lack_of_progress(tmp_path, session, peers):
    slow_base, good_base, local = tmp_path / "slow", tmp_path / "good", tmp_path / "local"
    paths = build_store(slow_base, STORE_START, 1)
    build_store(good_base, STORE_START, 1)
    slow = await peers(slow_base)
    slow.bodies[paths[0].name] = drip
    cfg = config(local, read_timeout=0.5, segment_timeout=3600.0, retry_attempts=2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await backfiller(cfg, session, slow).run_once()
    assert not result.complete and result.missing == 1 and temp_files(local) == []
    assert loop.time() - started < 60  # two attempts of ~0.5 s, not two of an hour
    result = await backfiller(cfg, session, slow, await peers(good_base)).run_once()
    assert result.complete and visible(local) == visible(good_base)


def steady(
    content: bytes, piece: int, pause: float
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A body that delivers `content` in `piece`-byte parts, one every `pause` seconds."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for offset in range(0, len(content), piece):
            await response.write(content[offset : offset + piece])
            await asyncio.sleep(pause)
        await response.write_eof()
        return response

    return handler


async def test_a_slow_peer_that_keeps_making_progress_is_not_cut_off(tmp_path, session, peers):
    """The progress deadline moves with every 64 KiB: a body taking several read timeouts, with
    progress all along, arrives (each wait is bounded by the deadline as it stands then)."""
    remote, local = tmp_path / "remote", tmp_path / "local"
    path = write_segment(remote, STORE_START, content=os.urandom(1_200_000))
    server = await peers(remote)
    server.bodies[path.name] = steady(path.read_bytes(), 80_000, 0.1)  # ~1.5 s in all
    cfg = config(local, read_timeout=1.0, segment_timeout=3600.0, retry_attempts=1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await backfiller(cfg, session, server).run_once()
    assert loop.time() - started > 1.0  # the body really outlasted one read timeout
    assert result.complete and result.copied == 1 and visible(local) == visible(remote)
    assert server.segment_requests(path.name) == 1


async def test_rate_limit_waits_do_not_count_against_the_transfer_timeout(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    for index in range(2):
        write_segment(remote, STORE_START + timedelta(seconds=2 * index), content=os.urandom(1_000_000))
    # each 1 MB segment takes ~2 s at 500 kB/s, while one transfer may use only 1 s of network time
    cfg = config(local, max_rate=500_000, segment_timeout=1.0, concurrency=1, retry_attempts=1)
    result = await backfiller(cfg, session, await peers(remote)).run_once()
    assert result.complete and result.copied == 2 and visible(local) == visible(remote)


async def test_odd_hour_names_are_refused_and_years_before_1000_replicate(tmp_path, session, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    early = build_store(remote, datetime(999, 5, 1, 10), 2)
    build_store(remote, STORE_START, 2)
    server = await peers(remote)
    odd = ["2_24-05-01T10", "+024-05-01T10", "\uff12\uff10\uff12\uff14-05-01T10", "999-05-01T10"]
    server.extra_names["chan/source"] = odd
    for hour in odd:  # each lists a valid-looking segment
        server.extra_names[f"chan/source/{hour}"] = [early[0].name]
    node = backfiller(config(local), session, server)
    first = await node.run_once()
    assert first.complete and first.copied == 4 and visible(local) == visible(remote)
    assert sorted(p.name for p in (local / "chan/source").iterdir()) == ["0999-05-01T10", "2024-05-01T10"]
    server.requests.clear()
    again = await node.run_once()
    assert again.complete and again.copied == 0
    assert not any(r.startswith("/segments/") for r in server.requests)
