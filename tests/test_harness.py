"""The harness itself produces what the other tests rely on."""

import subprocess

import pytest

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from wubloader.store import SegmentIndex

pytestmark = pytest.mark.ffmpeg


def test_clip_is_real_h264_aac_in_2s_segments(clip, clip_bframes):
    for c in (clip, clip_bframes):
        assert len(c.segments) == 30
        assert all(abs(d - 2.0) < 1e-6 for d in c.durations)
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,has_b_frames", "-of", "csv=p=0",
             str(c.directory / "seg00003.ts")],
            check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        assert out[0].startswith("h264") and out[1] == "aac"
        assert out[0].endswith(",0") != c.bframes


def test_fmp4_segments_stand_alone(clip_fmp4, tmp_path):
    assert len(clip_fmp4.segments) == 10
    one = tmp_path / "one.mp4"
    one.write_bytes(clip_fmp4.segments[4])
    frames = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(one)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert frames == "50"  # 2 s at 25 fps, decodable on its own thanks to the prepended init section


def test_store_from_clip_is_contiguous(clip, tmp_path):
    store_clip(tmp_path, clip, STORE_START, repeat=2)
    chain = SegmentIndex(tmp_path).best_segments("chan", "source", STORE_START, STORE_START.replace(minute=2))
    assert len(chain) == 60 and None not in chain
