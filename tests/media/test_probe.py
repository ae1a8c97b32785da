"""ffprobe of real segments, and encoder args that reproduce their codecs."""

from __future__ import annotations

from fractions import Fraction

import pytest

from wubloader.media.errors import UnsupportedMedia
from wubloader.media.probe import audio_encoder_args, parse_probe, probe_segment, video_encoder_args

pytestmark = pytest.mark.ffmpeg


async def test_probe_reads_stream_facts(clip_bframes):
    path = clip_bframes.directory / "seg00003.ts"
    info = await probe_segment(str(path))
    assert (info.video_codec, info.width, info.height, info.pix_fmt) == ("h264", 320, 180, "yuv420p")
    assert info.frame_rate == Fraction(25) and info.frame_ticks == 3600 and info.frame_seconds == 0.04
    assert info.has_b_frames > 0
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48000, 2)
    assert video_encoder_args(info)[:6] == ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "0"]
    assert audio_encoder_args(info)[:6] == ["-c:a", "aac", "-ar", "48000", "-ac", "2"]


def test_probe_without_video_or_rate_is_unsupported():
    with pytest.raises(UnsupportedMedia):
        parse_probe({"streams": [{"codec_type": "audio", "codec_name": "aac"}]})
    with pytest.raises(UnsupportedMedia):
        parse_probe({"streams": [{"codec_type": "video", "codec_name": "h264", "r_frame_rate": "0/0"}]})
    info = parse_probe({"streams": [{"codec_type": "video", "codec_name": "theora", "r_frame_rate": "30/1"}]})
    with pytest.raises(UnsupportedMedia):
        video_encoder_args(info)
