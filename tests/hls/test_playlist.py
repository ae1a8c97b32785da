"""Media/master playlist generation: planning decisions and exact text."""

from __future__ import annotations

import dataclasses
import gc
import re
import tracemalloc
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from wubloader.hls.playlist import (
    MAX_CLOCKS,
    EntryCache,
    Variant,
    _all_plain,
    format_extinf,
    format_program_date_time,
    plan_media_playlist,
    render_master_playlist,
    render_media_playlist,
    segment_uri,
)
from wubloader.store import Segment, SegmentType, parse_segment_path

T0 = datetime(2024, 5, 1, 10, 0, 0)
# The characters `quote(part, safe="")` leaves alone, and ":" (which it turns into "%3A").
PLAIN_PART = re.compile(r"[A-Za-z0-9_.~:-]*")
LIVE_EDGE = timedelta(seconds=15)


def seg(at: float, duration: float = 2.0, type: SegmentType = SegmentType.FULL) -> Segment:
    start = T0 + timedelta(seconds=at)
    name = f"{start:%M:%S.%f}-{duration}-{type}-h{int(at * 1000)}.ts"
    return Segment(
        folder=f"/base/chan/source/{start:%Y-%m-%dT%H}/",
        name=name,
        channel="chan",
        quality="source",
        start=start,
        duration=timedelta(seconds=duration),
        type=type,
    )


def plan(chain, *, end=60, now=T0 + timedelta(days=1), live=False):
    return plan_media_playlist(
        chain, end=T0 + timedelta(seconds=end), now=now, live=live, live_edge=LIVE_EDGE
    )


def test_complete_range_has_endlist_and_exact_text():
    chain = [seg(0), seg(2, 2.5), None, seg(10)]
    text = "".join(render_media_playlist(plan(chain, end=12), EntryCache(), 100_000))
    assert text == (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00.000000Z\n#EXTINF:2.0,\n"
        "../../segments/chan/source/2024-05-01T10/00%3A00.000000-2.0-full-h0.ts\n"
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:02.000000Z\n#EXTINF:2.5,\n"
        "../../segments/chan/source/2024-05-01T10/00%3A02.000000-2.5-full-h2000.ts\n"
        "#EXT-X-DISCONTINUITY\n"
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:10.000000Z\n#EXTINF:2.0,\n"
        "../../segments/chan/source/2024-05-01T10/00%3A10.000000-2.0-full-h10000.ts\n"
        "#EXT-X-ENDLIST\n"
    )


def test_leading_hole_dropped_trailing_hole_means_no_endlist():
    result = plan([None, seg(4), None])
    assert result.entries == [seg(4)]
    assert not result.ended


def test_no_endlist_for_a_range_ending_in_the_future():
    assert not plan([seg(0)], end=2, now=T0 + timedelta(seconds=1)).ended
    assert plan([seg(0)], end=2, now=T0 + timedelta(seconds=2)).ended


def test_live_trims_holes_and_partials_near_the_edge():
    old_hole = [seg(0), None, seg(40), seg(42)]
    assert plan(old_hole, live=True).entries == old_hole
    near = [seg(0), seg(2), None, seg(10), seg(12)]  # hole at 4 s, newest ends at 14 s: within 15 s
    assert plan(near, live=True).entries == [seg(0), seg(2)]
    partial = [seg(0), seg(2), seg(4, type=SegmentType.PARTIAL), None]
    result = plan(partial, live=True)
    assert result.entries == [seg(0), seg(2)]
    assert not result.ended


def test_target_duration_is_ceil_of_max_and_live_has_a_floor():
    assert plan([seg(0, 2.002)]).target_duration == 3
    assert plan([seg(0, 4.0)]).target_duration == 4
    assert plan([seg(0, 2.0)], live=True).target_duration == 6
    assert plan([seg(0, 10.0)], live=True).target_duration == 10


def test_chunks_join_to_the_same_text():
    chain = [seg(2 * i) for i in range(2000)]
    result = plan(chain, end=4000)
    whole = "".join(render_media_playlist(result, EntryCache(), 10_000_000))
    chunks = list(render_media_playlist(result, EntryCache(), 10_000))
    assert "".join(chunks) == whole
    assert len(chunks) > 10
    assert all(len(c) < 10_000 + 300 for c in chunks)


def test_entry_cache_is_bounded_in_bytes():
    one = EntryCache()
    one.entry(seg(0))
    cache = EntryCache(max_bytes=10 * one.bytes)
    for i in range(25):
        cache.entry(seg(2 * i))
        assert len(cache) <= 10 and cache.bytes <= 10 * one.bytes
    assert cache.entry(seg(0)) == EntryCache().entry(seg(0))


def test_entry_cache_estimate_matches_the_memory_really_held():
    segments = [seg(2 * i) for i in range(1800)]
    cache = EntryCache()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for segment in segments:
            cache.entry(segment)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 0.8 * held <= cache.bytes <= 1.3 * held


def test_entry_cache_keeps_equal_names_of_different_directories_apart():
    here, there = seg(0), seg(0)
    there = Segment(
        folder="/base/chan/other/" + here.folder.rsplit("/", 2)[1] + "/",
        name=here.name,
        channel="chan",
        quality="other",
        start=here.start,
        duration=here.duration,
        type=here.type,
    )
    cache = EntryCache()
    assert "/source/" in cache.entry(here) and "/other/" in cache.entry(there)
    assert cache.entry(here) == EntryCache().entry(here)


def exact_entry(segment: Segment) -> str:
    """An entry as the format says, field by field, with nothing cached."""
    return (
        f"#EXT-X-PROGRAM-DATE-TIME:{format_program_date_time(segment.start)}\n"
        f"#EXTINF:{format_extinf(segment.duration.total_seconds())},\n{segment_uri(segment)}\n"
    )


def odd_run() -> list[Segment]:
    """One folder's run with everything the bulk path treats apart: names that need quoting, a
    segment outside the folder's hour, several durations."""
    folder = seg(0).folder
    run = [dataclasses.replace(seg(2 * i, duration=2.0 + (i % 3) / 1000), folder=folder) for i in range(40)]
    odd = [
        dataclasses.replace(run[5], name="00:10.000000-2.0-full-a b.ts"),  # a space: percent-quoted
        dataclasses.replace(run[6], name="00:12.000000-2.0-full-ch\u00e4.ts"),  # not ASCII
        dataclasses.replace(run[7], start=T0 - timedelta(seconds=1)),  # an hour before the folder's
        dataclasses.replace(run[8], start=T0 + timedelta(hours=1, seconds=3)),  # an hour after it
    ]
    assert all(s.folder is folder for s in odd)
    return run[:5] + odd + run[9:]


def test_a_run_rendered_at_once_is_each_entry_exactly():
    run = odd_run()
    assert EntryCache().entries(run) == [exact_entry(s) for s in run]
    plain = [seg(2 * i) for i in range(40)]
    assert EntryCache().entries(plain) == [exact_entry(s) for s in plain]
    shallow = [dataclasses.replace(s, folder="hour/") for s in plain]  # no channel/quality in the folder
    assert EntryCache().entries(shallow) == [exact_entry(s) for s in shallow]


def test_a_partly_cached_run_renders_only_what_is_missing():
    run = odd_run()
    cache = EntryCache()
    cache.entries(run[10:20])
    before = cache.bytes
    assert cache.entries(run) == [exact_entry(s) for s in run]
    cache_all = EntryCache()
    cache_all.entries(run)
    assert cache.bytes == cache_all.bytes and len(cache) == len(run)
    assert cache.bytes > before


def test_a_run_over_the_whole_budget_is_rendered_but_not_kept():
    run = [seg(2 * i) for i in range(100)]
    cache = EntryCache(max_bytes=5_000)
    assert cache.entries(run) == [exact_entry(s) for s in run]
    assert len(cache) == 0 and cache.bytes <= 5_000


def test_the_clock_memo_overflowing_inside_a_run_changes_no_text():
    run = [seg(0.001 * i) for i in range(MAX_CLOCKS + 50)]  # more offsets than the memo holds
    cache = EntryCache(max_bytes=1 << 30)
    assert cache.entries(run) == [exact_entry(s) for s in run]
    assert cache.entries(run) == [exact_entry(s) for s in run]


def test_chunks_are_the_same_from_a_cold_and_a_warm_cache():
    chain = [seg(2 * i) for i in range(3000)]  # two hours, so two folders
    chain[700:703] = [None]
    chain[1500] = seg(3000, type=SegmentType.PARTIAL)
    result = plan(chain, end=6000)
    cache = EntryCache()
    list(render_media_playlist(plan(chain[1000:1200], end=6000), cache, 100))  # a part already cached
    for chunk_bytes in (1, 250, 10_000, 100_000, 10_000_000):
        cold = list(render_media_playlist(result, EntryCache(), chunk_bytes))
        warm = list(render_media_playlist(result, cache, chunk_bytes))
        assert cold == warm == list(render_media_playlist(result, cache, chunk_bytes))
    assert cold[0].count("#EXT-X-DISCONTINUITY") == 1


def test_the_plain_check_over_joined_names_is_the_character_class():
    for code in [*range(0x300), 0xD800, 0xFFFF, 0x1F600]:
        text = "00:02.000000-2.0-full-ab" + chr(code) + "c.ts"
        assert _all_plain(text) == (PLAIN_PART.fullmatch(text) is not None), hex(code)
    assert _all_plain("") and _all_plain("AZaz09_.~:-")


def test_format_extinf():
    assert [format_extinf(x) for x in (2.0, 2.002, 1.9333333, 0.0, 6.0)] == [
        "2.0",
        "2.002",
        "1.933333",
        "0.0",
        "6.0",
    ]


def test_master_playlist():
    text = render_master_playlist([Variant(name="source", bandwidth=123, uri="c/source.m3u8?start=x")])
    assert text == (
        '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=123,NAME="source"\nc/source.m3u8?start=x\n'
    )


def test_master_playlist_frame_rate():
    text = render_master_playlist(
        [Variant(name="source", bandwidth=1, uri="s.m3u8", frame_rate=30000 / 1001)]
    )
    assert '#EXT-X-STREAM-INF:BANDWIDTH=1,FRAME-RATE=29.970,NAME="source"\n' in text


@pytest.mark.parametrize(
    "path",
    [
        "/s/chan/source/2024-05-01T10/00:02.000000-2.0-full-AbC_-9.ts",
        "/s/my chan/source/2024-05-01T10/00:02.000000-2.0-full-abc.ts",  # a space: percent-quoted
        "/s/ch%an/qu?al/2024-05-01T10/00:02.000000-2.0-full-abc.ts",
        "/s/chän/source/2024-05-01T10/00:02.000000-2.0-full-abc.ts",  # not ASCII
    ],
)
def test_segment_uri_quotes_every_part(path):
    """The shortcut for plain names gives what quoting each part does."""
    seg = parse_segment_path(path)
    parts = path.split("/")[-4:]
    assert segment_uri(seg) == "../../segments/" + "/".join(quote(p, safe="") for p in parts)


def mixed_store(base):
    """Three hours: the first of one duration, the second of three durations (both seamless, so
    kept as runs), the third with a hole, a partial segment and an overlapping extra version."""
    from tests.harness.store_builder import build_store, write_segment

    build_store(base, T0 - timedelta(hours=1), 1800)
    at = T0
    for i in range(1800):
        duration = (2.0, 2.002, 1.998)[i % 3]
        write_segment(base, at, duration)
        at += timedelta(seconds=duration)
    build_store(base, T0 + timedelta(hours=1), 1800, skip={40, 41, 150})
    write_segment(base, T0 + timedelta(hours=1, seconds=300), 2.0, type=SegmentType.PARTIAL, content=b"p")
    write_segment(base, T0 + timedelta(hours=1, seconds=401), 2.0)


@pytest.mark.parametrize("live", [False, True])
def test_pieces_render_exactly_as_their_chain(tmp_path, live):
    """A playlist of runs is byte for byte the playlist of their segments, from cold and partly
    warm caches, in any chunk size, live or not."""
    from wubloader.store import SegmentIndex
    from wubloader.store.segment_run import SegmentRun
    from wubloader.store.selection import flatten

    mixed_store(tmp_path)
    index = SegmentIndex(tmp_path, settle_seconds=0)
    start, end = T0 - timedelta(minutes=45), T0 + timedelta(hours=2)
    pieces = index.best_pieces("chan", "source", start, end)
    assert [type(p) for p in pieces[:2]] == [SegmentRun, SegmentRun] and len(pieces) > 1000
    chain = flatten(pieces)
    now = T0 + timedelta(hours=2, seconds=1) if live else T0 + timedelta(days=1)
    args = {"end": end, "now": now, "live": live, "live_edge": LIVE_EDGE}
    by_pieces, by_chain = plan_media_playlist(pieces, **args), plan_media_playlist(chain, **args)
    assert by_pieces.target_duration == by_chain.target_duration and by_pieces.ended == by_chain.ended
    expected = "".join(render_media_playlist(by_chain, EntryCache(), 100_000))
    assert expected.count("#EXT-X-DISCONTINUITY") == 2  # after the hole, after the partial segment
    warm = EntryCache()
    part = index.best_pieces("chan", "source", T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))
    list(render_media_playlist(plan_media_playlist(part, **args), warm, 1000))  # runs partly rendered
    for chunk_bytes in (1, 777, 100_000):
        for cache in (EntryCache(), warm):
            chunks = list(render_media_playlist(by_pieces, cache, chunk_bytes))
            assert "".join(chunks) == expected
            assert chunks == list(render_media_playlist(by_chain, EntryCache(), chunk_bytes))
    run = pieces[1]
    assert isinstance(run, SegmentRun)
    split = dataclasses.replace(by_pieces, entries=[run[0], run[1:]])  # a segment, then a run of its hour
    whole = dataclasses.replace(by_chain, entries=run.segments())
    assert "".join(render_media_playlist(split, EntryCache(), 500)) == "".join(
        render_media_playlist(whole, EntryCache(), 500)
    )


def test_a_live_playlist_ending_in_a_run_trims_nothing_inside_it(tmp_path):
    from tests.harness.store_builder import build_store
    from wubloader.store import SegmentIndex
    from wubloader.store.selection import flatten

    build_store(tmp_path, T0, 100)
    pieces = SegmentIndex(tmp_path, settle_seconds=0).best_pieces(
        "chan", "source", T0, T0 + timedelta(hours=1)
    )
    args = {
        "end": T0 + timedelta(hours=1),
        "now": T0 + timedelta(seconds=201),
        "live": True,
        "live_edge": LIVE_EDGE,
    }
    by_pieces = plan_media_playlist(pieces, **args)
    by_chain = plan_media_playlist(flatten(pieces), **args)
    assert list(flatten(list(by_pieces.entries))) == list(by_chain.entries)
    assert len(by_chain.entries) == 100 and not by_pieces.ended and by_pieces.target_duration == 6
