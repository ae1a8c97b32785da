"""The downloader in-process against a real-time live encoder served over HTTP (with and without faults)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.downloader.support import (
    EncoderProcess,
    assert_archived_exactly,
    encoded,
    source_truth,
    stored_segments,
    temp_files,
)
from tests.harness.live_source import Faults, LiveSource
from tests.harness.processes import generous
from wubloader.downloader.config import DownloaderConfig
from wubloader.downloader.manager import Downloader
from wubloader.store import SegmentIndex

pytestmark = pytest.mark.ffmpeg


async def wait_async(predicate, timeout: float, message: str) -> None:
    timeout = generous(timeout)  # bounds a hang only: work crawls under CPU load
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def config(base, url, **overrides) -> DownloaderConfig:
    settings = dict(
        channel="chan", source=url, base_dir=base, poll_interval=0.5, retry_initial=0.2, retry_max=2.0
    )
    settings.update(overrides)
    return DownloaderConfig(**settings)


async def archive(tmp_path, seconds: float, faults: Faults | None = None, **overrides):
    """Encode about `seconds` of live stream, archive it through the (faulty) origin, return (truth, counts, source)."""
    encoder_dir = tmp_path / "encoder"
    base = tmp_path / "store"
    with LiveSource(encoder_dir, window=8, faults=faults) as source:
        segment_seconds = overrides.pop("segment_seconds", 2)
        with EncoderProcess(encoder_dir, segment_seconds=segment_seconds) as encoder:
            downloader = Downloader(config(base, source.master_url, **overrides))
            stop = asyncio.Event()
            task = asyncio.create_task(downloader.run(stop))
            # `seconds` of media, however long a loaded machine takes (never faster than real time).
            want = int(seconds / segment_seconds) - 1
            await wait_async(lambda: encoded(encoder_dir) >= want, seconds + 120, "the encoder's segments")
            encoder.stop()
            truth = source_truth(encoder_dir)
            starts = {s.start for s in truth}

            def caught_up() -> bool:
                good = {s.start for s in stored_segments(base) if s.type.value in ("full", "suspect")}
                return starts <= good

            try:
                await wait_async(caught_up, 60, "the archive to catch up")
            except AssertionError as exc:
                raise AssertionError(f"{exc}: {behind(truth, base, source)}") from None
            stop.set()
            await asyncio.wait_for(task, 30)
        counts = assert_archived_exactly(base, truth)
    return truth, counts, source, base


def behind(truth, base, source) -> str:
    """What a wait for the archive found missing: each source segment not stored whole, what was
    stored for it instead, and what the origin injected."""
    stored: dict[object, list[str]] = {}
    for segment in stored_segments(base):
        stored.setdefault(segment.start, []).append(segment.type.value)
    missing = [s for s in truth if not {"full", "suspect"} & set(stored.get(s.start, []))]
    listed = ", ".join(
        f"{s.start:%H:%M:%S.%f} ({'/'.join(stored.get(s.start, [])) or 'nothing'})" for s in missing
    )
    return (
        f"{len(missing)} of {len(truth)} source segments not stored whole: {listed}; "
        f"injected {dict(source.injected)}; requests {dict(source.requests)}"
    )


async def test_live_archive_without_faults(tmp_path):
    truth, counts, _source, _base = await archive(tmp_path, 9, segment_seconds=1)
    assert len(truth) >= 8
    assert counts == {"full": len(truth)}


@pytest.mark.slow
async def test_three_minute_archive_through_fault_proxy(tmp_path):
    # Media URLs from the master playlist also expire every 50 s (403), forcing URL handovers.
    faults = Faults(
        seed=4,
        error=0.06,
        reset=0.04,
        truncate=0.05,
        stall=0.04,
        stall_seconds=(5.0, 10.0),
        token_lifetime=50.0,
    )
    truth, counts, source, base = await archive(tmp_path, 180, faults, suspect_after=4.5)
    print(f"soak: {len(truth)} source segments, stored {counts}, injected {dict(source.injected)}")
    # Roughly 90 segments of 2 s; every fault kind actually happened.
    assert len(truth) >= 85
    assert {"error", "reset", "truncate", "stall", "expired"} <= set(source.injected), source.injected
    assert source.requests["master"] >= 4
    assert counts.get("full", 0) + counts.get("suspect", 0) == len(truth)
    assert counts.get("partial", 0) >= 1
    # A cut/playlist over the whole range sees no hole: only full segments are contiguous without one.
    index = SegmentIndex(base)
    first, last = truth[0].start, truth[-1].start
    chain = index.best_segments("chan", "source", first, last)
    assert chain
    # SPEC §3.1: each non-full segment is followed by a hole marker; there is no other hole.
    assert chain.count(None) == sum(
        1 for seg in chain[:-1] if seg is not None and seg.type.value == "suspect"
    )
    assert not temp_files(base)


@pytest.mark.parametrize(("stop_timeout", "finished"), [(8.0, True), (0.3, False)])
async def test_graceful_stop_finishes_or_aborts_in_flight_writes(tmp_path, stop_timeout, finished):
    encoder_dir = tmp_path / "encoder"
    base = tmp_path / "store"
    stalling = Faults(seed=2, stall=1.0, stall_seconds=(2.0, 2.0), on_playlists=False)
    with LiveSource(encoder_dir, window=8, faults=stalling) as source:
        with EncoderProcess(encoder_dir, segment_seconds=1):
            downloader = Downloader(config(base, source.media_url, stop_timeout=stop_timeout))
            stop = asyncio.Event()
            task = asyncio.create_task(downloader.run(stop))
            await wait_async(lambda: temp_files(base), 20, "a write in progress")
            in_flight = {s.start for s in stored_segments(base) if s.type.value == "temp"}
            stop.set()
            await asyncio.wait_for(task, stop_timeout + 60)  # bounds a hang only
    assert not temp_files(base)
    done = {s.start for s in stored_segments(base) if s.type.value == "full"}
    assert (in_flight <= done) is finished
