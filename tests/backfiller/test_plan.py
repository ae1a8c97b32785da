"""The pure diff and ordering rules of backfiller/plan.py, from one case table each."""

from datetime import datetime, timedelta

import pytest

from wubloader.backfiller.plan import (
    HourKey,
    HourListing,
    hour_in_range,
    order_hours,
    peer_listing,
    plan_hour,
)
from wubloader.store import SegmentType, hash_bytes, segment_filename

KEY = HourKey(channel="chan", quality="source", hour="2024-05-01T10")
HOUR = datetime(2024, 5, 1, 10)


def name(
    second: float, content: bytes = b"", type: SegmentType = SegmentType.FULL, duration: str = "2.0"
) -> str:
    return segment_filename(
        HOUR + timedelta(seconds=second), duration, type, hash_bytes(content or str(second).encode())
    )


def tomb(segment_name: str) -> str:
    return segment_name[:-3] + ".tombstone"


def listing(*names: str) -> HourListing:
    return HourListing.from_names(names)


A, B, C = name(0), name(2), name(4)


def test_missing_segment_is_fetched_from_every_peer_that_has_it_listed_in_peer_order():
    plan = plan_hour(KEY, listing(A), {"p2": listing(A, B), "p1": listing(B, C)}, recent_limit=None)
    assert [(j.name, j.peers) for j in plan.fetches] == [(C, ("p1",)), (B, ("p1", "p2"))]
    job = plan.fetches[1]
    assert (
        job.start == HOUR + timedelta(seconds=2)
        and job.duration_text == "2.0"
        and job.type is SegmentType.FULL
    )
    assert job.hash == hash_bytes(b"2") and job.path_id == f"chan/source/2024-05-01T10/{B}"


def test_jobs_come_newest_first():
    names = [name(s) for s in (10, 0, 30, 20)]
    plan = plan_hour(KEY, listing(), {"p": listing(*names)}, recent_limit=None)
    assert [j.start.second for j in plan.fetches] == [30, 20, 10, 0]


@pytest.mark.parametrize(
    ("local", "peer", "tombstones", "fetched", "skipped_tombstoned"),
    [
        # a peer's tombstone is copied and hides the segment everywhere (never fetched from another peer)
        (listing(), {"p1": listing(tomb(A)), "p2": listing(A)}, [tomb(A)], [], 1),
        # a local tombstone: the peer's copy is never fetched, nothing to copy
        (listing(tomb(A)), {"p1": listing(A)}, [], [], 1),
        # the peer has the tombstone we already have: nothing
        (listing(tomb(A)), {"p1": listing(tomb(A))}, [], [], 0),
        # we have the segment, the peer tombstoned it: copy the tombstone (it hides ours)
        (listing(A), {"p1": listing(tomb(A))}, [tomb(A)], [], 0),
        # a tombstone-only hour we lack entirely
        (listing(), {"p1": listing(tomb(A), tomb(B))}, [tomb(A), tomb(B)], [], 0),
        # the peer lists a segment and its tombstone (an old node): hidden
        (
            listing(),
            {"p1": HourListing(segments=frozenset({A}), tombstones=frozenset({tomb(A)}))},
            [tomb(A)],
            [],
            1,
        ),
    ],
)
def test_tombstone_rules(local, peer, tombstones, fetched, skipped_tombstoned):
    plan = plan_hour(KEY, local, peer, recent_limit=None)
    assert list(plan.tombstones) == tombstones
    assert [j.name for j in plan.fetches] == fetched
    assert plan.skipped.tombstoned == skipped_tombstoned


@pytest.mark.parametrize(
    ("peer_names", "field"),
    [
        ([name(0, type=SegmentType.TEMP)], "temp"),
        (["not-a-segment.ts", "garbage", "45:51.6-2.0-full-" + hash_bytes(b"x") + ".ts"], "bad_name"),
        ([".hidden-2.0-full-x.ts"], None),
        (["../evil.tombstone"], None),
    ],
)
def test_unusable_names_are_skipped(peer_names, field):
    plan = plan_hour(KEY, listing(), {"p": listing(*peer_names)}, recent_limit=None)
    assert plan.fetches == () and plan.tombstones == ()
    if field:
        assert getattr(plan.skipped, field) == len([n for n in peer_names if n.endswith(".ts")])


def test_non_canonical_time_text_is_skipped_so_it_cannot_look_missing_forever():
    canonical = name(1.5)
    short = canonical.replace("00:01.500000", "00:01.5")
    plan = plan_hour(KEY, listing(), {"p": listing(short)}, recent_limit=None)
    assert plan.fetches == () and plan.skipped.bad_name == 1


def test_too_recent_segments_wait_and_make_the_hour_not_in_sync():
    names = [name(s) for s in (0, 2, 4)]
    plan = plan_hour(KEY, listing(), {"p": listing(*names)}, recent_limit=HOUR + timedelta(seconds=2))
    assert [j.start.second for j in plan.fetches] == [2, 0]
    assert plan.skipped.recent == 1 and not plan.in_sync


@pytest.mark.parametrize(
    ("delta_us", "same_type", "same_duration", "duplicate"),
    [
        (1000, True, True, True),
        (1001, True, True, False),
        (-1000, True, True, True),
        (500, False, True, False),
        (500, True, False, False),
    ],
)
def test_near_duplicates_of_local_segments_are_skipped(delta_us, same_type, same_duration, duplicate):
    local_name = segment_filename(HOUR + timedelta(seconds=6), "2.0", SegmentType.FULL, hash_bytes(b"same"))
    peer_name = segment_filename(
        HOUR + timedelta(seconds=6, microseconds=delta_us)
        if delta_us >= 0
        else HOUR + timedelta(seconds=6) - timedelta(microseconds=-delta_us),
        "2.0" if same_duration else "2.002",
        SegmentType.FULL if same_type else SegmentType.SUSPECT,
        hash_bytes(b"same"),
    )
    plan = plan_hour(KEY, listing(local_name), {"p": listing(peer_name)}, recent_limit=None)
    assert ([j.name for j in plan.fetches] == []) == duplicate
    assert plan.skipped.duplicate == int(duplicate)


def test_near_duplicates_between_peers_are_fetched_once():
    first = segment_filename(HOUR + timedelta(seconds=6), "2.0", SegmentType.FULL, hash_bytes(b"same"))
    second = segment_filename(
        HOUR + timedelta(seconds=6, microseconds=700), "2.0", SegmentType.FULL, hash_bytes(b"same")
    )
    plan = plan_hour(KEY, listing(), {"p1": listing(first), "p2": listing(second)}, recent_limit=None)
    assert len(plan.fetches) == 1 and plan.skipped.duplicate == 1


def test_in_sync_when_peers_hold_nothing_new():
    plan = plan_hour(KEY, listing(A, B, tomb(C)), {"p": listing(A, tomb(C))}, recent_limit=None)
    assert plan.in_sync


def test_versions_differing_in_type_or_hash_are_separate_files():
    full = name(0, b"x")
    partial = name(0, b"xy", SegmentType.PARTIAL)
    suspect = name(0, b"xyz", SegmentType.SUSPECT)
    plan = plan_hour(KEY, listing(full), {"p": listing(full, partial, suspect)}, recent_limit=None)
    assert sorted(j.name for j in plan.fetches) == sorted([partial, suspect])
    assert {j.type for j in plan.fetches} == {SegmentType.PARTIAL, SegmentType.SUSPECT}


def test_hours_are_ordered_newest_first_across_channels_and_qualities():
    keys = [
        HourKey(channel=c, quality=q, hour=h)
        for c in ("b", "a")
        for q in ("480p", "source")
        for h in ("2024-05-01T09", "2024-05-01T11", "2024-05-01T10")
    ]
    groups = order_hours(keys + keys[:3])
    assert [g[0].hour for g in groups] == ["2024-05-01T11", "2024-05-01T10", "2024-05-01T09"]
    assert [(k.channel, k.quality) for k in groups[0]] == [
        ("a", "480p"),
        ("a", "source"),
        ("b", "480p"),
        ("b", "source"),
    ]


@pytest.mark.parametrize(
    ("hour", "not_before", "expected"),
    [
        ("2024-05-01T10", None, True),
        ("2024-05-01T10", datetime(2024, 5, 1, 10, 59), True),
        ("2024-05-01T10", datetime(2024, 5, 1, 11), False),
        ("not-an-hour", None, False),
        ("2024-13-01T10", None, False),
    ],
)
def test_hour_in_range(hour, not_before, expected):
    assert hour_in_range(hour, not_before) is expected


def test_peer_listing_keeps_only_names_this_node_could_store():
    bad = [
        A[:13] + "1e308" + A[16:],  # same name with an absurd duration
        A[:-3] + "X" * 250 + ".ts",  # over 255 bytes
        tomb(A)[:-10] + "Y" * 250 + ".tombstone",
        ".hidden-2.0-full-abc.ts",
        "00:00.000000-2.0-full-a/b.ts",
    ]
    result, refused = peer_listing([A, B, tomb(C), "notes.txt", *bad], KEY.hour)
    assert result == listing(A, B, tomb(C)) and refused == len(bad)


def test_new_tombstones_stop_at_the_per_hour_bound_but_still_hide_segments():
    peers = {"p": listing(*(tomb(name(s)) for s in range(0, 20, 2))), "q": listing(name(18))}
    plan = plan_hour(KEY, listing(tomb(name(0))), peers, recent_limit=None, max_tombstones=4)
    assert plan.tombstones == tuple(sorted(tomb(name(s)) for s in range(2, 8, 2)))
    assert plan.skipped.tombstone_limit == 6 and plan.fetches == () and plan.skipped.tombstoned == 1
