"""The bounded caches: peer listing digests, local hour listings by mtime, and the in-sync memory."""

import os
from datetime import datetime, timedelta

from tests.harness.store_builder import write_segment
from wubloader.backfiller.local_store import LocalHours
from wubloader.backfiller.peer_client import CachedListing, ListingCache
from wubloader.backfiller.plan import HourKey, HourListing, listing_bytes
from wubloader.backfiller.sync_memory import SyncMemory

KEY = HourKey(channel="chan", quality="source", hour="2024-05-01T10")


def entry(digest: str) -> CachedListing:
    return CachedListing(digest=digest, etag=None, listing=HourListing.from_names([digest + ".ts"]))


def test_listing_cache_keeps_digests_longer_than_parsed_listings():
    cache = ListingCache(max_entries=3, max_bytes=listing_bytes(entry("0").listing))  # room for one
    for n in range(4):
        cache.put(("p", "c", "q", str(n)), entry(str(n)))
    assert len(cache) == 3 and cache.get(("p", "c", "q", "0")) is None  # evicted entirely
    assert cache.get(("p", "c", "q", "1")) == ("1", None, None)  # digest kept, listing evicted
    digest, _etag, listing = cache.get(("p", "c", "q", "3"))
    assert digest == "3" and listing == HourListing.from_names(["3.ts"])


def test_listing_cache_holds_at_most_its_byte_budget_of_huge_listings():
    cache = ListingCache(max_bytes=20 * 1024 * 1024)
    for n in range(40):  # a hostile peer: 40 hours of 20,000 long names each (~4 MB apiece)
        names = [f"{i:02d}:00.000000-2.0-full-{n:03d}{'A' * 40}{i:06d}.ts" for i in range(20_000)]
        cache.put(
            ("p", "c", "q", str(n)),
            CachedListing(digest=str(n), etag=None, listing=HourListing.from_names(names)),
        )
    assert cache.listing_bytes <= 20 * 1024 * 1024
    assert cache.get(("p", "c", "q", "39"))[2] is not None and cache.get(("p", "c", "q", "0"))[2] is None


def test_local_hours_cache_is_bounded_in_bytes(tmp_path):
    keys = [HourKey(channel="chan", quality="source", hour=f"2024-05-01T{h:02d}") for h in range(10, 16)]
    for h in range(6):
        for i in range(50):
            write_segment(tmp_path, datetime(2024, 5, 1, 10 + h, i, 0))
    one = LocalHours(tmp_path, settle_seconds=0)
    one.read(keys[0])
    hours = LocalHours(tmp_path, settle_seconds=0, max_bytes=int(one._cache.bytes * 2.5))
    for key in keys:
        hours.read(key)
    assert len(hours._cache) == 2 and hours._cache.bytes <= int(one._cache.bytes * 2.5)


def test_local_hours_reread_only_when_changed_and_settled(tmp_path):
    now = [0.0]
    hours = LocalHours(tmp_path, settle_seconds=2.0, now=lambda: now[0])
    assert hours.read(KEY).listing.segments == frozenset() and hours.read(KEY).version == 0
    path = write_segment(tmp_path, datetime(2024, 5, 1, 10))
    mtime = os.stat(path.parent).st_mtime
    now[0] = mtime + 0.5  # just modified: not trusted, reported without a version
    fresh = hours.read(KEY)
    assert fresh.version is None and fresh.listing.segments == {path.name}
    now[0] = mtime + 10
    settled = hours.read(KEY)
    assert settled.version == os.stat(path.parent).st_mtime_ns and settled.listing.segments == {path.name}
    second = write_segment(tmp_path, datetime(2024, 5, 1, 10, 0, 2))
    os.utime(path.parent, ns=(settled.version + 1_000_000, settled.version + 1_000_000))
    assert hours.read(KEY).listing.segments == {path.name, second.name}


def test_sync_memory_skips_only_past_hours_within_the_relist_interval():
    clock = [100.0]
    memory = SyncMemory(relist=300, settle=timedelta(minutes=2), clock=lambda: clock[0], max_entries=2)
    signature = (5, frozenset({("p", "d")}))
    past = datetime(2024, 5, 1, 11, 2, 1)  # hour 10 ended more than 2 min ago
    assert not memory.recently_in_sync(KEY, past)
    memory.remember(KEY, signature)
    assert memory.recently_in_sync(KEY, past)
    assert not memory.recently_in_sync(KEY, datetime(2024, 5, 1, 11, 1))  # not settled yet
    clock[0] += 300
    assert not memory.recently_in_sync(KEY, past)
    assert memory.unchanged(KEY, signature) and memory.recently_in_sync(KEY, past)
    assert not memory.unchanged(KEY, (6, signature[1]))
    for hour in ("2024-05-01T11", "2024-05-01T12"):
        memory.remember(HourKey(channel="chan", quality="source", hour=hour), signature)
    assert not memory.unchanged(KEY, signature)  # evicted (LRU of 2)
