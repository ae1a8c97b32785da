"""Parsing, variant choice and timing over real-world playlists (tests/fixtures/playlists, see its README)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from wubloader.downloader.providers import pick_variant, pick_variants
from wubloader.downloader.timeline import assign_starts
from wubloader.hls.parse_records import AdReason, WarningKind
from wubloader.hls.parser import MediaPlaylistParser, parse_master_playlist, parse_media_playlist

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "playlists"
MASTER_URL = "https://usher.ttvnw.net/api/v2/channel/hls/chan.m3u8"
NOW = datetime(2026, 11, 30, 12, 0, 0)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def master(name: str, url: str = MASTER_URL):
    return parse_master_playlist(fixture(name), url)


def tail(uri: str | None) -> str | None:
    return None if uri is None else uri.rsplit("/", 1)[-1]


# (fixture, quality, expected playlist file name): `source` is what twitch marks, every name selectable.
PICKS = [
    ("twitch_v2_enhanced_2026.m3u8", "source", "CvEE-shortened-1440p60.m3u8"),
    ("twitch_v2_enhanced_2026.m3u8", "1440p60", "CvEE-shortened-1440p60.m3u8"),
    ("twitch_v2_enhanced_2026.m3u8", "480p30", "CvEE-shortened-480p30.m3u8"),
    ("twitch_v2_enhanced_2026.m3u8", "audio_only", "CvEE-shortened-audio_only.m3u8"),
    ("twitch_v2_h264_2026.m3u8", "source", "CvEE-shortened-1080p60.m3u8"),
    ("twitch_v2_h264_2026.m3u8", "1080p60", "CvEE-shortened-1080p60.m3u8"),
    ("twitch_v2_h264_2026.m3u8", "720p60", "CvEE-shortened-720p60.m3u8"),
    ("twitch_v2_h264_2026.m3u8", "480p", "CvEE-shortened-480p30.m3u8"),
    ("twitch_v2_h264_2026.m3u8", "audio_only", "CvEE-shortened-audio_only.m3u8"),
    ("twitch_v1_live_source_2024.m3u8", "source", "CvEE-shortened-chunked.m3u8"),
    ("twitch_v1_live_source_2024.m3u8", "1080p60", "CvEE-shortened-chunked.m3u8"),
    ("twitch_v1_live_source_2024.m3u8", "720p60", "CvEE-shortened-720p60.m3u8"),
    ("twitch_v1_live_source_2024.m3u8", "160p", "CvEE-shortened-160p30.m3u8"),
    ("twitch_v1_live_source_2024.m3u8", "audio_only", "CvEE-shortened-audio_only.m3u8"),
    ("twitch_v1_legacy_2017.m3u8", "source", "index-live.m3u8"),
    ("twitch_v1_legacy_2017.m3u8", "high", "index-live.m3u8"),
    ("twitch_v1_vod_2025.m3u8", "720p60", "index-muted-FBQT3CBZHP.m3u8"),
]


@pytest.mark.parametrize(("name", "quality", "expected"), PICKS)
def test_twitch_masters_old_and_new(name, quality, expected):
    variant = pick_variant(master(name), quality)
    assert tail(variant.uri if variant else None) == expected


def test_enhanced_broadcast_source_is_the_marked_hevc_rendition_not_the_h264_transcode():
    for name in ("twitch_v2_enhanced_2026.m3u8",):
        chosen = pick_variant(master(name), "source")
        assert (
            chosen is not None and chosen.codecs[0].startswith("hvc1") and chosen.resolution == (2560, 1440)
        )


def test_legacy_source_group_is_source():
    legacy = master("twitch_v1_legacy_2017.m3u8")
    assert [v.is_source for v in legacy.variants] == [True, False]
    assert "chunked" in pick_variant(legacy, "source").uri


@pytest.mark.parametrize(
    ("name", "bandwidths", "warnings"),
    [
        ("m3u8lib_variant_bandwidth_float.m3u8", [1280000, 2560000, 7680001, 65000], 3),
        ("m3u8lib_variant_video_range.m3u8", [0, 0], 2),
        ("m3u8lib_variant_playlist.m3u8", [1280000, 2560000, 7680000, 65000], 0),
    ],
)
def test_odd_bandwidths_keep_every_variant(name, bandwidths, warnings):
    parsed = master(name, "http://example.com/master.m3u8")
    assert [v.bandwidth for v in parsed.variants] == bandwidths
    assert len(parsed.warnings) == warnings
    assert pick_variants(parsed, ("source",))["source"].startswith("http://example.com/")


def test_one_junk_bandwidth_costs_only_its_variant_rank():
    text = fixture("twitch_v1_live_source_2024.m3u8").replace("BANDWIDTH=3422999", "BANDWIDTH=lots")
    parsed = parse_master_playlist(text, MASTER_URL)
    assert tail(pick_variants(parsed, ("720p60",))["720p60"]) == "CvEE-shortened-720p60.m3u8"
    assert tail(pick_variants(parsed, ("source",))["source"]) == "CvEE-shortened-chunked.m3u8"
    assert [w.line for w in parsed.warnings] == [7]  # the 720p60 STREAM-INF line


def test_separate_audio_rendition_becomes_its_own_quality():
    parsed = master("rfc8216_8.6_alternative_audio.m3u8", "http://media.example.com/master.m3u8")
    assert pick_variants(parsed, ("source",)) == {
        "source": "http://media.example.com/hi/video-only.m3u8",
        "source-audio": "http://media.example.com/main/english-audio.m3u8",  # the DEFAULT=YES one
    }


def test_relative_uris_resolve_against_the_final_url():
    playlist = parse_media_playlist(
        fixture("m3u8lib_relative_playlist.m3u8"), "http://cdn.example/a/b/c/index.m3u8"
    )
    assert [s.uri for s in playlist.segments] == [
        "http://cdn.example/entire1.ts",
        "http://cdn.example/a/b/entire2.ts",
        "http://cdn.example/a/entire3.ts",
        "http://cdn.example/a/b/c/entire4.ts",
    ]


@pytest.mark.parametrize(
    ("name", "live"), [("twitch_stitched_ad_2021.m3u8", 2), ("twitch_stitched_ad_2023.m3u8", 4)]
)
def test_first_live_segment_after_a_rounded_ad_pod_is_kept(name, live):
    playlist = parse_media_playlist(fixture(name), "https://edge.example/x.m3u8")
    timed = assign_starts(playlist.segments, {}, NOW, ad_ranges=playlist.ad_ranges).timed
    kinds = [(t.segment.title, t.ad_reason) for t in timed]
    assert [k for k in kinds if k[1] is None] == [("live", None)] * live
    assert all(reason is not None for title, reason in kinds if title.startswith("Amazon"))


def test_daterange_alone_classifies_the_pod():
    # Without the Amazon titles, the DATERANGE (midpoint rule) still finds exactly the 8 ad segments.
    text = fixture("twitch_stitched_ad_2023.m3u8").replace(",Amazon|577570242023456085", ",")
    playlist = parse_media_playlist(text, "https://edge.example/x.m3u8")
    timed = assign_starts(playlist.segments, {}, NOW, ad_ranges=playlist.ad_ranges).timed
    assert [t.ad_reason for t in timed] == [None, None] + [AdReason.DATERANGE] * 8 + [None, None]


# One bad line of a real twitch window: (replace, with, warning tag, segments kept of 6).
BAD_LINES = [
    (
        '#EXT-X-DATERANGE:ID="cb58315d6a584c729820a8260efe1fec",CLASS="twitch-assignment",START-DATE="2023-11-08T04:13:33.282Z"',
        '#EXT-X-DATERANGE:ID="stitched-ad-1",CLASS="twitch-stitched-ad",START-DATE="2023-13-45T99:00:00Z"',
        "#EXT-X-DATERANGE",
        6,
    ),
    ("2023-11-08T04:16:10.498Z", "2016-12-31T23:59:60.500Z", "#EXT-X-PROGRAM-DATE-TIME", 6),
    ("#EXTINF:2.000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3916.ts\n",
     "#EXTINF:2.000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3916.ts\n"
     "<html>stray</html>\n", "without a preceding #EXTINF", 6),
    ("#EXT-X-TWITCH-PREFETCH:https://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3920.ts\n",
     "#EXTINF:2.000,live\n", "#EXTINF without a URI", 6),
    ("#EXTINF:2.000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3915.ts",
     "#EXTINF:300000000000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3915.ts",
     "#EXTINF", 5),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "tag", "kept"), BAD_LINES, ids=["daterange", "leap", "stray", "dangling", "huge"]
)
def test_one_bad_line_loses_nothing_else(old, new, tag, kept):
    text = fixture("twitch_live_2023.m3u8")
    assert old in text
    playlist = parse_media_playlist(text.replace(old, new), "https://edge.example/x.m3u8")
    assert len(playlist.segments) == kept
    assert len(playlist.warnings) == 1 and tag in str(playlist.warnings[0])
    assert playlist.warnings[0].line > 0
    timed = assign_starts(playlist.segments, {}, NOW, ad_ranges=playlist.ad_ranges)
    assert len(timed.timed) == kept and not timed.refused


def test_implausible_values_are_refused_per_segment():
    text = fixture("twitch_live_2023.m3u8")
    text = text.replace("2023-11-08T04:16:12.498Z", "9999-12-31T23:59:59.000Z")
    playlist = parse_media_playlist(text, "https://edge.example/x.m3u8")
    timeline = assign_starts(playlist.segments, {}, NOW, ad_ranges=playlist.ad_ranges)
    assert [t.segment.uri[-7:] for t in timeline.timed] == [
        "3914.ts",
        "3915.ts",
        "3916.ts",
        "3918.ts",
        "3919.ts",
    ]
    assert len(timeline.refused) == 1 and "implausible" in timeline.refused[0].reason


def test_absurd_ad_duration_is_a_skipped_line():
    text = fixture("twitch_stitched_ad_2023.m3u8").replace("DURATION=15.217", "DURATION=1" + "0" * 300)
    playlist = parse_media_playlist(text, "https://edge.example/x.m3u8")
    assert playlist.ad_ranges == () and playlist.warnings[0].kind is WarningKind.IMPLAUSIBLE
    assert len(playlist.segments) == 12


def test_incremental_parse_of_a_growing_event_playlist_equals_a_full_parse():
    text = fixture("twitch_stitched_ad_2023.m3u8")
    cut = text.index("#EXT-X-PROGRAM-DATE-TIME:2023-11-08T04:15:55.282Z")
    parser = MediaPlaylistParser("https://edge.example/x.m3u8")
    first = parser.parse(text[:cut])
    second = parser.parse(text)
    assert second.unchanged == len(first.segments) == 6
    assert second.segments == parse_media_playlist(text, "https://edge.example/x.m3u8").segments
    assert parser.parse("#EXTM3U\n#EXTINF:2,\nz.ts\n").unchanged == 0  # anything else: from scratch
