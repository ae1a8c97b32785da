"""The source stops (ENDLIST, then 404) for 30 s and comes back: both parts archived, the gap the only hole."""

from __future__ import annotations

import asyncio

import pytest

from tests.downloader.support import (
    EncoderProcess,
    assert_archived_exactly,
    encoded,
    source_truth,
    stored_segments,
)
from tests.downloader.test_live_archive import config, wait_async
from tests.harness.live_source import LiveSource
from wubloader.downloader.manager import Downloader
from wubloader.store import SegmentIndex

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]


async def test_outage_with_endlist_and_404_then_resume(tmp_path):
    encoder_dir = tmp_path / "encoder"
    base = tmp_path / "store"
    with LiveSource(encoder_dir, window=20) as source:
        downloader = Downloader(config(base, source.media_url))
        stop = asyncio.Event()
        task = asyncio.create_task(downloader.run(stop))
        with EncoderProcess(encoder_dir, segment_seconds=1):
            await wait_async(lambda: encoded(encoder_dir) >= 5, 120, "the first part's segments")
        first_truth = source_truth(encoder_dir)
        # 15 s serving the ended playlist (ENDLIST), then 15 s of 404.
        await asyncio.sleep(15)
        first_text = (encoder_dir / "index.m3u8").read_text()
        (encoder_dir / "index.m3u8").unlink()
        await asyncio.sleep(15)
        with EncoderProcess(encoder_dir, segment_seconds=1):
            await wait_async(lambda: encoded(encoder_dir) >= 5, 120, "the second part's segments")
        second_truth = source_truth(encoder_dir)
        assert source_truth(encoder_dir, first_text) == first_truth
        truth = first_truth + second_truth
        starts = {s.start for s in truth}

        def caught_up() -> bool:
            return starts <= {s.start for s in stored_segments(base) if s.type.value == "full"}

        await wait_async(caught_up, 40, "both parts archived")
        stop.set()
        await asyncio.wait_for(task, 30)
    assert assert_archived_exactly(base, truth) == {"full": len(truth)}
    chain = SegmentIndex(base).best_segments("chan", "source", truth[0].start, second_truth[-1].start)
    assert chain is not None
    hole = chain.index(None)
    assert chain.count(None) == 1
    assert [s.start for s in chain[:hole]] == [s.start for s in first_truth]
    assert [s.start for s in chain[hole + 1 :]] == [s.start for s in second_truth[:-1]]
