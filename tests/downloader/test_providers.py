"""Variant choice by name, `source` and resolution; claims shared by overlapping workers; config checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hls.test_parser import TWITCH_MASTER
from wubloader.downloader.claims import Claims, ClaimState
from wubloader.downloader.config import DownloaderConfig
from wubloader.downloader.providers import pick_variant, pick_variants
from wubloader.hls.parser import parse_master_playlist
from wubloader.runtime.errors import RuntimeConfigError

PLAIN = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
360.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=60
720.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=4000000,RESOLUTION=1280x720,CODECS="hvc1.1.6.L93,mp4a.40.2",FRAME-RATE=60
720h.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30
720p30.m3u8
"""

CASES = [
    (TWITCH_MASTER, "source", "https://video-weaver.example/v1/playlist/abc.m3u8"),
    (TWITCH_MASTER, "480p", "https://video-weaver.example/v1/playlist/def.m3u8"),
    (TWITCH_MASTER, "audio_only", "http://h/audio.m3u8"),
    (TWITCH_MASTER, "1080p60 (source)", "https://video-weaver.example/v1/playlist/abc.m3u8"),
    (TWITCH_MASTER, "720p", None),
    (PLAIN, "source", "http://h/720.m3u8"),  # best H.264, not the larger H.265 one
    (PLAIN, "720p", "http://h/720.m3u8"),
    (PLAIN, "720p30", "http://h/720p30.m3u8"),
    (PLAIN, "360p", "http://h/360.m3u8"),
    (PLAIN, "1080p", None),
    (PLAIN, "best", None),
]


@pytest.mark.parametrize(("text", "quality", "uri"), CASES)
def test_pick_variant(text, quality, uri):
    variant = pick_variant(parse_master_playlist(text, "http://h/master.m3u8"), quality)
    assert (variant.uri if variant else None) == uri


def test_pick_variants_skips_missing():
    master = parse_master_playlist(PLAIN, "http://h/m.m3u8")
    assert pick_variants(master, ("source", "1080p")) == {"source": "http://h/720.m3u8"}


def test_claims_shared_between_workers():
    claims = Claims(max_entries=3)
    key = ("t", "2.0")
    assert claims.try_claim(key, 1)
    assert not claims.try_claim(key, 2)
    claims.release(key)
    assert claims.try_claim(key, 2)
    claims.finish(key)
    assert claims.state(key) is ClaimState.DONE and not claims.try_claim(key, 1)
    for i in range(5):
        claims.try_claim((i, "2.0"), 1)
    assert len(claims) == 3 and claims.state(key) is None  # the oldest were forgotten


@pytest.mark.parametrize(
    "overrides",
    [
        {"channel": ".hidden"},
        {"channel": "a/b"},
        {"qualities": ()},
        {"qualities": ("../x",)},
        {"source": "ftp://x/y.m3u8"},
        {"poll_interval": 0},
        {"suspect_after": -1},
        {"give_up_after": -1},
    ],
)
def test_bad_config_is_rejected(overrides):
    settings = {"channel": "chan", "source": "http://h/x.m3u8", "base_dir": Path("/tmp/x"), **overrides}
    with pytest.raises(RuntimeConfigError):
        DownloaderConfig(**settings)
