"""Cuts on real encoded media: durations, first/last frames, A/V alignment, timestamps, holes, early stop."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import STORE_START
from tests.harness.cut_check import (
    AUDIO_FRAME_TICKS,
    FPS,
    TICKS,
    av_offset,
    decode_errors,
    encode_wrapping_clip,
    first_frame_index,
    gray_frames,
    nearest_source_frame,
    packets,
)
from tests.harness.media import store_clip
from wubloader.media.cut_engine import prepare_cut
from wubloader.media.cut_plan import CutRange, CutType, Transition
from wubloader.media.errors import BadRange, TransitionOverHole, UnsupportedMedia
from wubloader.store import ContainsHoles, SegmentIndex

pytestmark = pytest.mark.ffmpeg

CASES = {
    "one": ([(1.3, 5.7)], []),
    "two-hard": ([(3.1, 6.9), (20.5, 23.22)], [None]),
    "three-transitions": ([(2.5, 6.5), (10.04, 14.5), (30.7, 33.9)], [("fade", 1.0), ("clockwipe", 0.52)]),
    "two-transition-mid-segment": ([(1.5, 5.0), (40.3, 43.1)], [("wipeleft", 0.8)]),
    "segment-boundaries": ([(2.0, 6.0), (10.0, 12.52)], [None]),
}


def _ranges(spec):
    return [
        CutRange(start=STORE_START + timedelta(seconds=a), end=STORE_START + timedelta(seconds=b))
        for a, b in spec
    ]


def _transitions(spec):
    return [None if t is None else Transition(name=t[0], duration=t[1]) for t in spec]


@pytest.fixture(scope="module")
def stores(tmp_path_factory, clip, clip_bframes):
    """One store per clip, plus source frames decoded once."""
    out = {}
    for name, c in (("plain", clip), ("bframes", clip_bframes)):
        base = tmp_path_factory.mktemp(f"cutstore-{name}")
        store_clip(base, c, STORE_START)
        out[name] = (base, gray_frames(c.directory / "index.m3u8"))
    return out


async def _cut(base: Path, cut_type, ranges, transitions, out: Path, *, allow_holes=True) -> Path:
    index = SegmentIndex(base)
    chains = [index.best_segments("chan", "source", r.start, r.end) for r in ranges]
    stream = await prepare_cut(cut_type, ranges, transitions, chains, allow_holes=allow_holes)
    with out.open("wb") as f:
        async for chunk in stream:
            f.write(chunk)
    return out


@pytest.mark.parametrize("clip_name", ["plain", "bframes"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("cut_type", [CutType.SMART, CutType.FAST, CutType.FULL])
async def test_cut_is_exact(stores, tmp_path, clip_name, case, cut_type):
    base, source = stores[clip_name]
    spec, trans_spec = CASES[case]
    ranges, transitions = _ranges(spec), _transitions(trans_spec)
    out = await _cut(base, cut_type, ranges, transitions, tmp_path / "out.ts")
    got = packets(out)

    expected_frames = sum(first_frame_index(b) - first_frame_index(a) for a, b in spec)
    expected_frames -= sum(round(t[1] * FPS) for t in trans_spec if t is not None)
    assert got.frames == expected_frames
    nominal = sum(b - a for a, b in spec) - sum(t[1] for t in trans_spec if t is not None)
    # fast keeps source timestamps (they jump at range joins and holes), so its duration is its frames.
    duration = got.frames / FPS if cut_type is CutType.FAST else got.duration
    assert abs(duration - nominal) <= 1 / FPS + 1e-9

    frames = gray_frames(out)
    assert len(frames) == expected_frames
    first_wanted = first_frame_index(spec[0][0])
    last_wanted = first_frame_index(spec[-1][1]) - 1
    assert nearest_source_frame(frames[0], source, first_wanted) == first_wanted
    assert nearest_source_frame(frames[-1], source, last_wanted) == last_wanted

    # A/V sync by content: the tone's whole-second beep against the video frame of that second
    # (the source itself measures ~0), within one AAC frame.
    assert abs(av_offset(out, first_wanted)) <= AUDIO_FRAME_TICKS / 90_000
    # Audio covers the output: it neither starts nor ends more than an AAC frame (+ the source's
    # own audio lead on B-frame video, for copied segments) away from the video.
    lead = 2 * TICKS if clip_name == "bframes" else 0
    assert abs(got.audio_pts[0] - min(got.video_pts)) <= AUDIO_FRAME_TICKS + lead
    audio_end = max(got.audio_pts) + AUDIO_FRAME_TICKS
    assert abs(audio_end - (max(got.video_pts) + TICKS)) <= 2 * AUDIO_FRAME_TICKS

    if cut_type in (CutType.SMART, CutType.FULL):
        assert decode_errors(out) == ""
    if cut_type is CutType.SMART:
        _assert_continuous_from_zero(got)
    if cut_type is CutType.FAST and len(spec) == 1:
        # fast keeps the source clock: within one hole-free range, re-encoded edges join seamlessly.
        pts = sorted(got.video_pts)
        assert {b - a for a, b in itertools.pairwise(pts)} == {TICKS}
        assert all(a < b for a, b in itertools.pairwise(got.video_dts))


def _assert_continuous_from_zero(got):
    assert min(min(got.video_dts), got.audio_pts[0]) == 0
    pts = sorted(got.video_pts)
    assert {b - a for a, b in itertools.pairwise(pts)} == {TICKS}
    assert all(a < b for a, b in itertools.pairwise(got.video_dts))
    assert all(a < b for a, b in itertools.pairwise(got.audio_pts))


@pytest.mark.parametrize("clip_name", ["plain", "bframes"])
@pytest.mark.parametrize("case", list(CASES))
async def test_rough_cut_covers_ranges_with_whole_segments(stores, tmp_path, clip_name, case):
    base, _ = stores[clip_name]
    spec, trans_spec = CASES[case]
    ranges = _ranges(spec)
    out = await _cut(base, CutType.ROUGH, ranges, _transitions(trans_spec), tmp_path / "rough.ts")
    # Whole covering segments, bytes identical to the stored files; transitions are ignored.
    index = SegmentIndex(base)
    chains = [index.best_segments("chan", "source", r.start, r.end) for r in ranges]
    assert out.read_bytes() == b"".join(Path(seg.path).read_bytes() for chain in chains for seg in chain)
    assert all(
        chain[0].start <= r.start and chain[-1].end >= r.end for chain, r in zip(chains, ranges, strict=True)
    )
    covered = sum((chain[-1].end - chain[0].start).total_seconds() for chain in chains)
    assert packets(out).frames == round(covered * FPS)


@pytest.fixture(scope="module")
def holed_store(tmp_path_factory, clip_bframes):
    base = tmp_path_factory.mktemp("holes")
    store_clip(base, clip_bframes, STORE_START, skip=frozenset({5}))  # 10-12 s missing
    return base


async def test_hole_is_refused_unless_allowed(holed_store, tmp_path):
    ranges = _ranges([(8.5, 14.3)])
    index = SegmentIndex(holed_store)
    chains = [index.best_segments("chan", "source", r.start, r.end) for r in ranges]
    with pytest.raises(ContainsHoles):
        await prepare_cut(CutType.SMART, ranges, [], chains, allow_holes=False)


async def test_smart_closes_holes(holed_store, tmp_path):
    out = await _cut(holed_store, CutType.SMART, _ranges([(8.5, 14.3)]), [], tmp_path / "h.ts")
    got = packets(out)
    assert got.frames == first_frame_index(14.3) - first_frame_index(8.5) - 2 * FPS
    _assert_continuous_from_zero(got)
    assert decode_errors(out) == ""


async def test_transition_over_hole_is_refused_up_front(holed_store):
    ranges = _ranges([(4.0, 10.5), (20.0, 25.0)])
    index = SegmentIndex(holed_store)
    chains = [index.best_segments("chan", "source", r.start, r.end) for r in ranges]
    with pytest.raises(TransitionOverHole):
        await prepare_cut(
            CutType.SMART, ranges, [Transition(name="fade", duration=1.0)], chains, allow_holes=True
        )


def _ffmpeg_children(parent: int | None = None) -> list[int]:
    """ffmpeg processes whose parent is `parent` (default: this process)."""
    me = os.getpid() if parent is None else parent
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == me and name == "ffmpeg":
            found.append(int(entry))
    return found


@pytest.mark.parametrize("cut_type", [CutType.SMART, CutType.FULL])
async def test_consumer_leaving_early_kills_ffmpeg(stores, cut_type):
    base, _ = stores["plain"]
    ranges = _ranges([(1.3, 20.7), (22.1, 40.3), (41.1, 58.3)])
    transitions = _transitions([("fade", 1.0), ("dissolve", 1.0)])
    index = SegmentIndex(base)
    chains = [index.best_segments("chan", "source", r.start, r.end) for r in ranges]
    stream = await prepare_cut(cut_type, ranges, transitions, chains, allow_holes=True)
    first = await anext(stream)
    assert first
    await stream.aclose()
    deadline = time.monotonic() + 60  # bounds a hang only: ffmpeg is reaped late under load
    while _ffmpeg_children() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _ffmpeg_children() == []


async def test_smart_bridges_a_timestamp_jump_without_a_hole(tmp_path, clip):
    # The clip stored twice back to back: its timestamps restart at 60 s although no segment is missing.
    store_clip(tmp_path, clip, STORE_START, repeat=2)
    out = await _cut(tmp_path, CutType.SMART, _ranges([(55.3, 66.7)]), [], tmp_path / "jump.ts")
    got = packets(out)
    assert got.frames == first_frame_index(66.7) - first_frame_index(55.3)
    pts = sorted(got.video_pts)
    assert {b - a for a, b in itertools.pairwise(pts)} == {TICKS}
    assert all(a < b for a, b in itertools.pairwise(got.video_dts))
    # Known limit: the audio PES before the jump may overlap the next one by part of a PES (~10 ms here).
    assert decode_errors(out) == ""


@pytest.fixture(scope="module")
def wrapping_clip(tmp_path_factory):
    return encode_wrapping_clip(tmp_path_factory.mktemp("wrapclip"))


@pytest.mark.parametrize("cut_type", [CutType.SMART, CutType.FAST, CutType.FULL])
async def test_cut_across_the_33_bit_wrap(wrapping_clip, tmp_path, cut_type):
    directory = wrapping_clip.directory
    store_clip(tmp_path, wrapping_clip, STORE_START)
    out = await _cut(tmp_path, cut_type, _ranges([(1.3, 5.1), (6.5, 9.7)]), [None], tmp_path / "wrap.ts")
    got = packets(out)
    expected = (
        first_frame_index(5.1) - first_frame_index(1.3) + first_frame_index(9.7) - first_frame_index(6.5)
    )
    assert got.frames == expected
    source = gray_frames(directory / "index.m3u8")
    frames = gray_frames(out)
    assert nearest_source_frame(frames[0], source, first_frame_index(1.3)) == first_frame_index(1.3)
    assert nearest_source_frame(frames[-1], source, first_frame_index(9.7) - 1) == first_frame_index(9.7) - 1
    if cut_type is CutType.SMART:
        _assert_continuous_from_zero(got)
        assert decode_errors(out) == ""


@pytest.mark.parametrize("cut_type", [CutType.SMART, CutType.FAST, CutType.FULL])
async def test_range_without_a_whole_frame_is_refused_up_front(stores, cut_type):
    base, _ = stores["plain"]
    ranges = _ranges([(1.301, 1.309)])
    chains = [SegmentIndex(base).best_segments("chan", "source", r.start, r.end) for r in ranges]
    with pytest.raises(BadRange):
        await prepare_cut(cut_type, ranges, [], chains, allow_holes=True)


async def test_fmp4_store_full_and_rough_work_smart_refused_up_front(tmp_path, clip_fmp4):
    store_clip(tmp_path, clip_fmp4, STORE_START)
    ranges = _ranges([(1.3, 7.7)])
    chains = [SegmentIndex(tmp_path).best_segments("chan", "source", r.start, r.end) for r in ranges]
    for cut_type in (CutType.SMART, CutType.FAST):
        with pytest.raises(UnsupportedMedia):
            await prepare_cut(cut_type, ranges, [], chains, allow_holes=True)
    out = await _cut(tmp_path, CutType.FULL, ranges, [], tmp_path / "full.ts")
    assert packets(out).frames == first_frame_index(7.7) - first_frame_index(1.3)
    assert decode_errors(out) == ""
