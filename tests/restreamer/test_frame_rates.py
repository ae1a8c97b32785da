"""FrameRateCache: real ffprobe on real and junk segments; bounded, failures cached, timeouts not."""

from __future__ import annotations

import os
import shutil

from tests.conftest import STORE_START
from tests.harness.media import FPS, store_clip
from wubloader.restreamer.frame_rates import FrameRateCache


async def test_frame_rate_of_real_and_junk_segments(tmp_path, clip):
    [first, second, *_] = store_clip(tmp_path, clip, STORE_START)
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"not video")
    cache = FrameRateCache(max_entries=2)
    assert await cache.frame_rate(str(first)) == FPS
    assert await cache.frame_rate(str(junk)) is None
    assert len(cache) == 2
    # The least recently used entry goes first: `first` was used before `junk`.
    assert await cache.frame_rate(str(second)) == FPS
    assert len(cache) == 2
    assert str(first) not in cache._rates
    assert str(junk) in cache._rates


async def test_a_probe_that_runs_out_of_time_is_asked_again(tmp_path, clip):
    """A busy machine is not a broken file: the timeout is not remembered as "no video"."""
    [first, *_] = store_clip(tmp_path / "store", clip, STORE_START)
    path = tmp_path / "slow.ts"
    os.mkfifo(path)  # ffprobe blocks opening it: no writer ever comes
    cache = FrameRateCache()
    assert await cache.frame_rate(str(path), time_limit=0.5) is None
    assert len(cache) == 0
    path.unlink()
    shutil.copyfile(first, path)
    assert await cache.frame_rate(str(path)) == FPS
