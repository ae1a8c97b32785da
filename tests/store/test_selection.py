"""Best segments for a range: the spec's worked example and the edge cases around it."""

import gc
import itertools
import threading
import tracemalloc
from datetime import datetime, timedelta

import pytest

from tests.harness.store_builder import build_store, write_segment
from wubloader.store import ContainsHoles, SegmentIndex, SegmentType, create_tombstone, hour_name, selection
from wubloader.store.naming import parse_segment_name
from wubloader.store.segment_run import SegmentRun
from wubloader.store.selection import HourIndex, _walk_chain, build_hour_index, flatten

T0 = datetime(2024, 5, 1, 10, 0, 0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def spans(chain):
    """Render a chain as [(start, end) | None] in seconds from T0."""
    return [
        None if s is None else ((s.start - T0).total_seconds(), (s.end - T0).total_seconds()) for s in chain
    ]


def select(base, start, end, **kwargs):
    return SegmentIndex(base, settle_seconds=0).best_segments("chan", "source", at(start), at(end), **kwargs)


def test_worked_example(tmp_path):
    for s in (5, 15, 30, 40):
        write_segment(tmp_path, at(s), 10.0)
    assert spans(select(tmp_path, 10, 60)) == [(5, 15), (15, 25), None, (30, 40), (40, 50), None]


def test_holes_raise_when_not_allowed(tmp_path):
    for s in (5, 15, 30, 40):
        write_segment(tmp_path, at(s), 10.0)
    with pytest.raises(ContainsHoles):
        select(tmp_path, 10, 60, allow_holes=False)
    assert spans(select(tmp_path, 10, 25, allow_holes=False)) == [(5, 15), (15, 25)]


def test_empty_store_is_one_hole(tmp_path):
    assert select(tmp_path, 0, 100) == [None]
    with pytest.raises(ContainsHoles):
        select(tmp_path, 0, 100, allow_holes=False)


def test_leading_hole_and_segment_after_end_excluded(tmp_path):
    for s in (12, 22, 70):
        write_segment(tmp_path, at(s), 10.0)
    assert spans(select(tmp_path, 10, 40)) == [None, (12, 22), (22, 32), None]


@pytest.mark.parametrize(
    ("second_start", "expected"),
    [
        (10.009, [(0, 10), (10.009, 20.009)]),  # gap within 10 ms: contiguous
        (10.011, [(0, 10), None, (10.011, 20.011)]),  # gap over 10 ms: hole
        (9.991, [(0, 10), (9.991, 19.991)]),  # overlap within 10 ms: contiguous
        (9.5, [(0, 10), None, (20, 30)]),  # overlap over 10 ms: dropped, then hole
    ],
)
def test_gap_and_overlap_tolerance(tmp_path, second_start, expected):
    write_segment(tmp_path, at(0), 10.0)
    write_segment(tmp_path, at(second_start), 10.0)
    write_segment(tmp_path, at(20), 10.0)
    assert spans(select(tmp_path, 0, 30))[: len(expected)] == expected


@pytest.mark.parametrize("seg_type", [SegmentType.SUSPECT, SegmentType.PARTIAL])
def test_non_full_segment_forces_hole(tmp_path, seg_type):
    write_segment(tmp_path, at(0), 10.0)
    write_segment(tmp_path, at(10), 10.0, type=seg_type)
    write_segment(tmp_path, at(20), 10.0)
    assert spans(select(tmp_path, 0, 30)) == [(0, 10), (10, 20), None, (20, 30)]
    with pytest.raises(ContainsHoles):
        select(tmp_path, 0, 30, allow_holes=False)


def test_version_preference(tmp_path):
    write_segment(tmp_path, at(0), 2.0, content=b"partial-longer-content", type=SegmentType.PARTIAL)
    write_segment(tmp_path, at(0), 2.0, content=b"suspect", type=SegmentType.SUSPECT)
    small = write_segment(tmp_path, at(0), 2.0, content=b"full")
    big = write_segment(tmp_path, at(0), 2.0, content=b"full-but-larger")
    chain = select(tmp_path, 0, 2)
    assert chain[0].path == str(big)
    # Longer duration beats larger size among full versions.
    longer = write_segment(tmp_path, at(0), 2.002, content=b"f")
    assert select(tmp_path, 0, 2)[0].path == str(longer)
    create_tombstone(longer)
    create_tombstone(big)
    assert select(tmp_path, 0, 2)[0].path == str(small)  # tombstoned winners fall back
    create_tombstone(small)
    assert select(tmp_path, 0, 2)[0].type is SegmentType.SUSPECT


def test_temp_never_selected(tmp_path):
    write_segment(tmp_path, at(0), 2.0, type=SegmentType.TEMP)
    assert select(tmp_path, 0, 2) == [None]


def test_range_crossing_hours_and_segment_crossing_boundary(tmp_path):
    # Segments every 2 s from 09:59:01, one straddles 10:00:00 and lives in the 09 directory.
    start = T0 - timedelta(seconds=59)
    build_store(tmp_path, start, 200)
    chain = select(tmp_path, -30, 400)
    assert None not in chain[:-1]
    assert chain[0].start <= at(-30) < chain[0].end
    assert chain[-2].end == start + timedelta(seconds=400) and chain[-1] is None
    for a, b in itertools.pairwise(chain[:-1]):
        assert a.end == b.start
    whole = select(tmp_path, -59, 341, allow_holes=False)
    assert len(whole) == 200


def test_fast_path_matches_segment_by_segment_walk(tmp_path):
    """The cached chain slices must give exactly what a naive walk gives, holes and all."""
    start = T0 - timedelta(minutes=30)
    build_store(tmp_path, start, 3000, skip={5, 6, 900, 1799, 1800, 2500})
    write_segment(tmp_path, start + timedelta(seconds=2 * 1200 + 0.5), 2.0)  # an overlapping extra
    write_segment(tmp_path, start + timedelta(seconds=2 * 1500), 2.0, type=SegmentType.PARTIAL, content=b"p")
    index = SegmentIndex(tmp_path, settle_seconds=0)
    for a, b in [(-1800, 4200), (-1790.5, 3000), (0, 1), (11, 13), (1797, 1803), (-5000, -4000)]:
        fast = index.best_segments("chan", "source", at(a), at(b))
        assert fast == naive_walk(index, at(a), at(b)), (a, b)
        assert flatten(index.best_pieces("chan", "source", at(a), at(b))) == fast


def test_usual_hours_are_kept_as_runs_and_flatten_to_the_chain(tmp_path):
    """Seamless hours of full segments come out as runs (no record per segment); an hour with a
    hole or a partial segment comes out segment by segment, and the chain is the same either way."""
    start = T0 - timedelta(hours=1)
    build_store(tmp_path, start, 4 * 1800, skip={2 * 1800 + 100})  # a hole in the third hour
    index = SegmentIndex(tmp_path, settle_seconds=0)
    pieces = index.best_pieces("chan", "source", at(-1800 + 0.5), at(2 * 3600 + 1801))
    kinds = [type(p).__name__ for p in pieces]
    assert kinds[:2] == ["SegmentRun", "SegmentRun"] and kinds[-1] == "SegmentRun"
    assert "NoneType" in kinds and kinds.count("Segment") == 1799  # the third hour, around its hole
    first = pieces[0]
    assert isinstance(first, SegmentRun) and len(first) == 900 and first[0].start == at(-1800)
    chain = flatten(pieces)
    assert chain == naive_walk(index, at(-1800 + 0.5), at(2 * 3600 + 1801))
    assert spans(chain)[-1] == (2 * 3600 + 1800, 2 * 3600 + 1802)
    with pytest.raises(ContainsHoles):
        index.best_pieces("chan", "source", at(0), at(3 * 3600), allow_holes=False)
    whole = index.best_pieces("chan", "source", at(0), at(3600), allow_holes=False)
    assert len(whole) == 1 and isinstance(whole[0], SegmentRun) and len(whole[0]) == 1800


def test_a_live_hour_moves_between_run_and_records_as_its_files_change(tmp_path):
    build_store(tmp_path, T0, 10)
    index = SegmentIndex(tmp_path, settle_seconds=0)

    def pieces(end):
        return index.best_pieces("chan", "source", at(0), at(end))

    assert [type(p) for p in pieces(20)] == [SegmentRun]
    partial = write_segment(tmp_path, at(20), 2.0, type=SegmentType.PARTIAL, content=b"p")
    assert spans(flatten(pieces(22))) == [(2 * i, 2 * i + 2) for i in range(11)] + [None]
    assert SegmentRun not in map(type, pieces(22))
    create_tombstone(partial)
    write_segment(tmp_path, at(20), 2.0)
    assert [type(p) for p in pieces(22)] == [SegmentRun]
    assert spans(flatten(pieces(22))) == [(2 * i, 2 * i + 2) for i in range(11)]
    assert index.hour_index("chan", "source", T0).candidates[-1].start == at(20)


def naive_walk(index, start, end):
    """Reference: the greedy walk, one candidate at a time, without precomputed chains."""
    result, last = [], None
    hour = start.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    tolerance = timedelta(milliseconds=10)
    while hour < end:
        for seg in index.hour_index("chan", "source", hour).candidates:
            if seg.start >= end:
                break
            if last is None:
                if seg.start <= start < seg.end:
                    pass
                elif start < seg.start:
                    result.append(None)
                else:
                    continue
            else:
                gap = seg.start - last.end
                if gap < -tolerance:
                    continue
                if last.is_partial or gap > tolerance:
                    result.append(None)
            result.append(seg)
            last = seg
            if seg.end >= end:
                return result
        hour += timedelta(hours=1)
    if last is None or last.is_partial or last.end < end:
        result.append(None)
    return result


def test_cache_sees_new_segments_and_tombstones(tmp_path):
    index = SegmentIndex(tmp_path, settle_seconds=0)
    build_store(tmp_path, T0, 3)
    assert len(index.best_segments("chan", "source", at(0), at(6))) == 3
    late = write_segment(tmp_path, at(6))
    assert spans(index.best_segments("chan", "source", at(0), at(8))) == [(0, 2), (2, 4), (4, 6), (6, 8)]
    create_tombstone(late)
    assert index.best_segments("chan", "source", at(0), at(8))[-1] is None


def test_the_hours_a_range_needs_are_listed_concurrently_with_the_same_result(tmp_path, monkeypatch):
    """A first long playlist lists its uncached hours on the listing threads (cold reads overlap);
    its chain is the one listing hour by hour gives. Cached hours are not listed again, and a single
    stale hour (the live one) is listed inline."""
    build_store(tmp_path, T0, 5 * 60, duration=60.0, skip={70})  # five hours, a hole in the 2nd
    (tmp_path / "chan/source" / hour_name(T0 + timedelta(hours=6))).write_bytes(b"not an hour")
    listed_by: list[str] = []
    real = selection.read_hour_names

    def recording(hour_dir):
        listed_by.append(threading.current_thread().name)
        return real(hour_dir)

    monkeypatch.setattr(selection, "read_hour_names", recording)
    concurrent = SegmentIndex(tmp_path, settle_seconds=0)
    one_by_one = SegmentIndex(tmp_path, settle_seconds=0, listing_threads=1)
    start, end = at(-1800), at(7 * 3600)
    chain = concurrent.best_segments("chan", "source", start, end)
    assert len(listed_by) == 6 and all(name.startswith("hour-listing") for name in listed_by)
    listed_by.clear()
    assert chain == one_by_one.best_segments("chan", "source", start, end)
    assert listed_by == ["MainThread"] * 6
    assert spans(chain)[:3] == [None, (0, 60), (60, 120)] and chain.count(None) == 3  # before, hole, after
    listed_by.clear()
    assert concurrent.best_segments("chan", "source", start, end) == chain and not listed_by
    write_segment(tmp_path, at(5 * 3600))
    assert spans(concurrent.best_segments("chan", "source", start, end))[-2] == (5 * 3600, 5 * 3600 + 2)
    assert listed_by == ["MainThread"]


@pytest.mark.parametrize("threads", [1, 4])
def test_an_hour_that_cannot_be_listed_is_an_error_in_the_callers_thread(tmp_path, monkeypatch, threads):
    build_store(tmp_path, T0, 3 * 60, duration=60.0)
    unreadable = tmp_path / "chan/source" / hour_name(T0 + timedelta(hours=1))
    real = selection.read_hour_names

    def refusing(hour_dir):
        if hour_dir == unreadable:
            raise PermissionError(13, "Permission denied", str(hour_dir))
        return real(hour_dir)

    monkeypatch.setattr(selection, "read_hour_names", refusing)
    index = SegmentIndex(tmp_path, settle_seconds=0, listing_threads=threads)
    with pytest.raises(PermissionError):
        index.best_segments("chan", "source", at(0), at(3 * 3600))
    assert not [t for t in threading.enumerate() if t.name.startswith("hour-listing")]  # none left


def test_cache_is_bounded_in_bytes_and_evicts_the_least_recently_used_hours(tmp_path):
    build_store(tmp_path, T0, 6 * 360, duration=10.0)  # six hours of 360 segments
    one_hour = SegmentIndex(tmp_path, settle_seconds=0)
    one_hour.hour_index("chan", "source", T0)
    budget = int(one_hour._cache.bytes * 3.5)
    index = SegmentIndex(tmp_path, settle_seconds=0, max_bytes=budget)
    index.best_pieces("chan", "source", at(0), at(6 * 3600))
    assert len(index._cache) == 3 and index._cache.bytes <= budget
    hours = [T0 + timedelta(hours=h) for h in range(6)]
    kept = [h for h in hours if tmp_path / "chan/source" / hour_name(h) in index._cache]
    assert kept == hours[3:]


def test_a_runs_records_are_made_once_kept_with_its_hour_and_charged(tmp_path):
    """`best_segments` makes a run's records the first time and slices them after; the cache
    charges them, and keeps them only where they push no hour out."""
    build_store(tmp_path, T0, 3 * 1800)
    index = SegmentIndex(tmp_path, settle_seconds=0)
    index.best_pieces("chan", "source", at(0), at(3 * 3600))
    lean = index._cache.bytes
    first = index.best_segments("chan", "source", at(100), at(2 * 3600 + 100))
    again = index.best_segments("chan", "source", at(100), at(2 * 3600 + 100))
    assert again == first and all(a is b for a, b in zip(again, first, strict=True))
    assert spans(first) == [(2 * i, 2 * i + 2) for i in range(50, 3650)]
    assert index._cache.bytes >= lean + 3 * 1800 * 150  # the three hours' records, charged
    small = SegmentIndex(tmp_path, settle_seconds=0, max_bytes=lean + 1800 * 190)  # room for one hour's
    assert small.best_segments("chan", "source", at(0), at(3 * 3600)) == index.best_segments(
        "chan", "source", at(0), at(3 * 3600)
    )
    assert len(small._cache) == 3 and small._cache.bytes <= small._cache.max_bytes  # no hour pushed out
    assert [
        small._cache.get(d).records is not None for d in sorted((tmp_path / "chan/source").iterdir())
    ] == [
        True,
        False,
        False,
    ]


def test_pieces_of_an_hour_listed_again_since_get_records_of_their_own(tmp_path):
    paths = build_store(tmp_path, T0, 100)  # a live hour
    index = SegmentIndex(tmp_path, settle_seconds=0)
    index.best_segments("chan", "source", at(0), at(200))  # its records made
    old = index.best_pieces("chan", "source", at(0), at(200))
    write_segment(tmp_path, at(200), 2.0)
    create_tombstone(paths[50])  # and a segment replaced by another version of it
    write_segment(tmp_path, at(100), 2.0, content=b"another version")
    new = index.best_pieces("chan", "source", at(0), at(202))  # the hour listed again: a new run
    assert [type(p) for p in old] == [type(p) for p in new] == [SegmentRun]
    assert flatten(old, index._records) == flatten(old) and len(flatten(old)) == 100
    assert flatten(new, index._records)[50] != flatten(old)[50]
    assert spans(flatten(new, index._records)) == [(2 * i, 2 * i + 2) for i in range(101)]


def test_cache_size_estimate_matches_the_memory_really_held(tmp_path):
    build_store(tmp_path, T0, 4 * 1800, contents=[b"x", b"y"])  # four hours of 2 s segments
    index = SegmentIndex(tmp_path, settle_seconds=0)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for h in range(4):
            index.hour_index("chan", "source", T0 + timedelta(hours=h))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
        assert 0.8 * held <= index._cache.bytes <= 1.3 * held
        index.best_segments("chan", "source", T0, T0 + timedelta(hours=4))  # and their records
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0.8 * held <= index._cache.bytes <= 1.3 * held


def test_empty_hour_index():
    assert build_hour_index([]) == HourIndex()


def test_an_absurd_duration_does_not_hide_the_rest_of_its_hour(tmp_path):
    build_store(tmp_path, T0, 60)
    write_segment(tmp_path, at(10), 3000.0, content=b"absurd")  # parses, but beside 2 s segments
    hour = tmp_path / "chan/source/2024-05-01T10"
    (hour / "00:20.000000-300000000000-full-AAAA.ts").write_bytes(b"x")  # does not even parse
    chain = select(tmp_path, 0, 120, allow_holes=False)
    assert spans(chain) == [(2 * i, 2 * i + 2) for i in range(60)]


def test_long_segments_are_kept_when_they_are_the_norm(tmp_path):
    build_store(tmp_path, T0, 4, duration=900.0)
    assert spans(select(tmp_path, 0, 3600, allow_holes=False)) == [(900 * i, 900 * i + 900) for i in range(4)]


@pytest.mark.parametrize(
    "layout",
    [
        [(0, 2, "full"), (2, 2, "full"), (4, 2, "partial")],  # a partial last segment: still seamless
        [(0, 2, "full"), (2.005, 2, "full"), (3.999, 2, "full")],  # gaps and overlaps within 10 ms
        [(0, 2, "full"), (2, 0, "full"), (2, 2, "full")],  # a zero-length segment
        [(0, 2, "full"), (2, 2, "partial"), (4, 2, "full")],  # a partial inside: a hole
        [(0, 2, "full"), (2.02, 2, "full")],  # a gap: a hole
        [(0, 4, "full"), (2, 1, "full"), (4, 2, "full")],  # an end going back: skipped
        [(0, 2, "full"), (2.011, 2, "full")],  # one length, a gap just over 10 ms: a hole
        [(0, 2, "full"), (1.989, 2, "full")],  # one length, an overlap just over 10 ms: skipped
        [(0, 0.005, "full"), (0.008, 0.005, "full"), (0.007, 0.005, "full")],  # one tiny length, going back
        [(0, 0.005, "full"), (0.004, 0.005, "full"), (0.009, 0.005, "full")],  # one tiny length, overlapping
    ],
)
def test_index_of_a_seamless_hour_equals_the_greedy_walk(layout):
    """build_hour_index's shortcut for seamless hours gives exactly the chain the walk gives."""
    candidates = [
        parse_segment_name(T0, f"{T0 + timedelta(seconds=s):%M:%S.%f}-{d:.1f}-{t}-h{i}.ts", "chan", "source")
        for i, (s, d, t) in enumerate(layout)
    ]
    index = build_hour_index(candidates)
    chain, keys, pos = _walk_chain(candidates)
    assert (list(index.chain), list(index.chain_end_keys), list(index.chain_pos)) == (chain, keys, pos)


def test_an_unparseable_name_is_skipped_with_one_warning_however_often_its_hour_changes(tmp_path, caplog):
    build_store(tmp_path, T0, 10)
    hour = tmp_path / "chan/source/2024-05-01T10"
    (hour / "00:04.000000-2.0-bogus-AAAA.ts").write_bytes(b"x")
    index = SegmentIndex(tmp_path, settle_seconds=0)
    with caplog.at_level("WARNING", logger="wubloader.store.selection"):
        first = index.best_segments("chan", "source", at(0), at(20), allow_holes=False)
    assert spans(first) == [(2 * i, 2 * i + 2) for i in range(10)]
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring unparseable file {hour}/00:04.000000-2.0-bogus-AAAA.ts"
    ]
    caplog.clear()
    write_segment(tmp_path, at(20), 2.0)  # the hour changes: only its new names are parsed
    (hour / "00:22.000000-2.0-bogus-BBBB.ts").write_bytes(b"x")
    with caplog.at_level("WARNING", logger="wubloader.store.selection"):
        second = index.best_segments("chan", "source", at(0), at(22), allow_holes=False)
    assert spans(second) == [(2 * i, 2 * i + 2) for i in range(11)]
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring unparseable file {hour}/00:22.000000-2.0-bogus-BBBB.ts"
    ]
