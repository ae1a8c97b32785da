"""The HLS parser, driven by case tables: every tag the downloader relies on, and malformed input."""

from __future__ import annotations

from datetime import datetime

import pytest

from wubloader.hls.parse_attributes import PlaylistParseError, parse_attribute_list
from wubloader.hls.parse_records import AdReason, ByteRange, Encryption, InitSection
from wubloader.hls.parser import is_master_playlist, parse_master_playlist, parse_media_playlist

BASE = "http://cdn.example/live/chan/index.m3u8?token=abc"

FFMPEG_LIVE = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00.000+0000
#EXTINF:2.000000,
seg00041.ts
#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:02.000+0000
#EXTINF:2.002000,
seg00042.ts
"""


def test_ffmpeg_live_playlist():
    pl = parse_media_playlist(FFMPEG_LIVE, BASE)
    assert pl.target_duration == 2
    assert pl.media_sequence == 41
    assert not pl.endlist
    assert [s.sequence for s in pl.segments] == [41, 42]
    assert [s.uri for s in pl.segments] == [
        "http://cdn.example/live/chan/seg00041.ts",
        "http://cdn.example/live/chan/seg00042.ts",
    ]
    assert [s.duration for s in pl.segments] == [2.0, 2.002]
    assert pl.segments[0].program_date_time == datetime(2024, 5, 1, 10, 0, 0)
    assert pl.segments[1].program_date_time == datetime(2024, 5, 1, 10, 0, 2)
    assert all(s.ad_reason is None and s.encryption is None and s.byterange is None for s in pl.segments)


# (name, playlist body after #EXTM3U, expected attribute of the segments or playlist)
MEDIA_CASES = [
    (
        "pdt with zone offset becomes naive UTC, only on its segment",
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00.500+02:00\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n",
        lambda pl: (
            [s.program_date_time for s in pl.segments] == [datetime(2024, 5, 1, 10, 0, 0, 500000), None]
        ),
    ),
    (
        "title kept, duration without fraction",
        "#EXTINF:4,live\na.ts\n",
        lambda pl: (pl.segments[0].duration, pl.segments[0].title) == (4.0, "live"),
    ),
    (
        "endlist and playlist type",
        "#EXT-X-PLAYLIST-TYPE:event\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n",
        lambda pl: pl.endlist and pl.playlist_type == "EVENT",
    ),
    (
        "discontinuity flags only the next segment; sequence counts from the header",
        "#EXT-X-DISCONTINUITY-SEQUENCE:7\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n#EXTINF:2,\nc.ts\n",
        lambda pl: (
            [(s.discontinuity, s.discontinuity_sequence) for s in pl.segments]
            == [(False, 7), (True, 8), (False, 8)]
            and pl.discontinuity_sequence == 7
        ),
    ),
    (
        "map is sticky and resolved",
        '#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\na.m4s\n#EXTINF:2,\nb.m4s\n',
        lambda pl: all(
            s.init_section == InitSection(uri="http://cdn.example/live/chan/init.mp4") for s in pl.segments
        ),
    ),
    (
        "map with byterange",
        '#EXT-X-MAP:URI="all.mp4",BYTERANGE="700@0"\n#EXTINF:2,\na.m4s\n',
        lambda pl: (
            pl.segments[0].init_section
            == InitSection(
                uri="http://cdn.example/live/chan/all.mp4", byterange=ByteRange(length=700, offset=0)
            )
        ),
    ),
    (
        "byterange without offset continues the previous range of the same URI",
        "#EXTINF:2,\n#EXT-X-BYTERANGE:1000@700\nall.ts\n#EXTINF:2,\n#EXT-X-BYTERANGE:500\nall.ts\n",
        lambda pl: (
            [s.byterange for s in pl.segments]
            == [ByteRange(length=1000, offset=700), ByteRange(length=500, offset=1700)]
        ),
    ),
    (
        "key AES-128 marks segments encrypted until METHOD=NONE",
        '#EXT-X-KEY:METHOD=AES-128,URI="k.bin",IV=0x0123\n#EXTINF:2,\na.ts\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:2,\nb.ts\n',
        lambda pl: (
            [s.encryption for s in pl.segments]
            == [Encryption(method="AES-128", uri="http://cdn.example/live/chan/k.bin"), None]
        ),
    ),
    (
        "scte35 out..in region is an ad",
        "#EXTINF:2,\na.ts\n#EXT-X-SCTE35-OUT:URL=x\n#EXTINF:2,\nb.ts\n#EXT-X-SCTE35-OUT-CONT\n#EXTINF:2,\nc.ts\n"
        "#EXT-X-SCTE35-IN\n#EXTINF:2,\nd.ts\n",
        lambda pl: [s.ad_reason for s in pl.segments] == [None, AdReason.SCTE35, AdReason.SCTE35, None],
    ),
    (
        "cue-out/cue-in too",
        "#EXT-X-CUE-OUT:30\n#EXTINF:2,\na.ts\n#EXT-X-CUE-IN\n#EXTINF:2,\nb.ts\n",
        lambda pl: [s.ad_reason for s in pl.segments] == [AdReason.SCTE35, None],
    ),
    (
        "Amazon title is an ad",
        "#EXTINF:2.000,Amazon|123\na.ts\n#EXTINF:2.000,live\nb.ts\n",
        lambda pl: [s.ad_reason for s in pl.segments] == [AdReason.AMAZON_TITLE, None],
    ),
    (
        "stitched-ad daterange is collected (segments are classified by their times, see the timeline)",
        '#EXT-X-DATERANGE:ID="stitched-ad-1-1",CLASS="twitch-stitched-ad",START-DATE="2024-05-01T10:00:02.000Z",'
        'DURATION=4.0,X-TV-TWITCH-AD-ROLL-TYPE="MIDROLL"\n'
        "#EXTINF:2,\na.ts\n#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:02Z\n#EXTINF:2,\nb.ts\n",
        lambda pl: (
            pl.ad_ranges[0].start == datetime(2024, 5, 1, 10, 0, 2)
            and pl.ad_ranges[0].end == datetime(2024, 5, 1, 10, 0, 6)
            and [s.ad_reason for s in pl.segments] == [None, None]
        ),
    ),
    (
        "a non-ad daterange is ignored",
        '#EXT-X-DATERANGE:ID="source-1",CLASS="twitch-session",START-DATE="2024-05-01T10:00:00Z",DURATION=9\n'
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00Z\n#EXTINF:2,\na.ts\n",
        lambda pl: pl.segments[0].ad_reason is None and pl.ad_ranges == (),
    ),
    (
        "twitch prefetch and unknown tags ignored; comments ignored; CRLF and spaces tolerated",
        "#EXT-X-TWITCH-LIVE-SEQUENCE:5\r\n#EXTINF:2.000,live\r\n  a.ts  \r\n# a comment\r\n"
        "#EXT-X-TWITCH-PREFETCH:https://x/b.ts\r\n",
        lambda pl: [s.uri for s in pl.segments] == ["http://cdn.example/live/chan/a.ts"],
    ),
    (
        "absolute URIs kept",
        "#EXTINF:2,\nhttps://other.example/x.ts?sig=1\n",
        lambda pl: pl.segments[0].uri == "https://other.example/x.ts?sig=1",
    ),
    (
        "decimal target duration rounds up",
        "#EXT-X-TARGETDURATION:2.5\n#EXTINF:2,\na.ts\n",
        lambda pl: pl.target_duration == 3,
    ),
    ("no segments is fine (stream just started)", "#EXT-X-TARGETDURATION:2\n", lambda pl: pl.segments == ()),
]


@pytest.mark.parametrize(("name", "body", "check"), MEDIA_CASES, ids=[c[0] for c in MEDIA_CASES])
def test_media_playlist_cases(name, body, check):
    assert check(parse_media_playlist("#EXTM3U\n" + body, BASE))


NOT_MEDIA_CASES = [
    ("empty body", "", 0),
    ("whitespace only", "  \n\n", 0),
    ("no EXTM3U", "#EXTINF:2,\na.ts\n", 1),
    ("html error page", "<html>oops</html>", 1),
    ("master instead of media", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", 0),
]


@pytest.mark.parametrize(("name", "text", "line"), NOT_MEDIA_CASES, ids=[c[0] for c in NOT_MEDIA_CASES])
def test_text_that_is_no_media_playlist_raises(name, text, line):
    with pytest.raises(PlaylistParseError) as info:
        parse_media_playlist(text, BASE)
    assert info.value.line == line


# (name, text, line of the warning, the segment URIs kept): one bad line never loses the others.
BAD_LINE_CASES = [
    ("bad EXTINF", "#EXTM3U\n#EXTINF:two,\na.ts\n#EXTINF:2,\nb.ts\n", 2, ["b.ts"]),
    ("negative EXTINF", "#EXTM3U\n#EXTINF:-2,\na.ts\n#EXTINF:2,\nb.ts\n", 2, ["b.ts"]),
    ("exponent EXTINF", "#EXTM3U\n#EXTINF:2e0,\na.ts\n#EXTINF:2,\nb.ts\n", 2, ["b.ts"]),
    ("nan EXTINF", "#EXTM3U\n#EXTINF:nan,\na.ts\n#EXTINF:2,\nb.ts\n", 2, ["b.ts"]),
    ("bad media sequence", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x1\n#EXTINF:2,\na.ts\n", 2, ["a.ts"]),
    (
        "bad discontinuity sequence",
        "#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:-1\n#EXTINF:2,\na.ts\n",
        2,
        ["a.ts"],
    ),
    ("URI without EXTINF", "#EXTM3U\na.ts\n#EXTINF:2,\nb.ts\n", 2, ["b.ts"]),
    ("trailing EXTINF without URI", "#EXTM3U\n#EXTINF:2,\na.ts\n#EXTINF:2,\n", 4, ["a.ts"]),
    ("bad PDT", "#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n#EXTINF:2,\na.ts\n", 2, ["a.ts"]),
    ("bad byterange", "#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:1@x\na.ts\n#EXTINF:2,\nb.ts\n", 2, ["b.ts"]),
    ("byterange without offset first", "#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:100\na.ts\n", 2, []),
    ("map without uri", '#EXTM3U\n#EXT-X-MAP:BYTERANGE="1@0"\n#EXTINF:2,\na.ts\n', 2, ["a.ts"]),
    ("media sequence after segments", "#EXTM3U\n#EXTINF:2,\na.ts\n#EXT-X-MEDIA-SEQUENCE:3\n", 4, ["a.ts"]),
]


@pytest.mark.parametrize(("name", "text", "line", "kept"), BAD_LINE_CASES, ids=[c[0] for c in BAD_LINE_CASES])
def test_bad_lines_are_skipped_with_a_warning(name, text, line, kept):
    playlist = parse_media_playlist(text, BASE)
    assert [s.uri.rsplit("/", 1)[-1] for s in playlist.segments] == kept
    assert [w.line for w in playlist.warnings] == [line]


@pytest.mark.parametrize(
    "key", ['#EXT-X-KEY:URI="k"', '#EXT-X-KEY:METHOD=AES-128,,"'], ids=["without method", "garbled"]
)
def test_an_unreadable_key_refuses_the_segments_under_it(key):
    playlist = parse_media_playlist(f"#EXTM3U\n{key}\n#EXTINF:2,\na.ts\n", BASE)
    assert playlist.segments[0].encryption is not None and playlist.warnings[0].line == 2


TWITCH_MASTER = """#EXTM3U
#EXT-X-TWITCH-INFO:NODE="video-edge",SERVER-TIME="1714557600.00"
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="chunked",NAME="1080p60 (source)",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=6000000,RESOLUTION=1920x1080,CODECS="avc1.64002A,mp4a.40.2",VIDEO="chunked",FRAME-RATE=60.000
https://video-weaver.example/v1/playlist/abc.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="480p30",NAME="480p",AUTOSELECT=YES,DEFAULT=YES
#EXT-X-STREAM-INF:BANDWIDTH=1400000,RESOLUTION=852x480,CODECS="avc1.4D401F,mp4a.40.2",VIDEO="480p30",FRAME-RATE=30.000
https://video-weaver.example/v1/playlist/def.m3u8
#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="audio_only",NAME="audio_only",AUTOSELECT=NO,DEFAULT=NO
#EXT-X-STREAM-INF:BANDWIDTH=160000,CODECS="mp4a.40.2",VIDEO="audio_only"
audio.m3u8
"""


def test_twitch_master_playlist():
    master = parse_master_playlist(TWITCH_MASTER, "https://usher.example/api/channel/hls/chan.m3u8?sig=1")
    assert [v.name for v in master.variants] == ["1080p60 (source)", "480p", "audio_only"]
    assert [v.is_source for v in master.variants] == [True, False, False]
    source, p480, audio = master.variants
    assert source.resolution == (1920, 1080) and source.bandwidth == 6000000
    assert source.codecs == ("avc1.64002A", "mp4a.40.2") and source.frame_rate == 60.0
    assert p480.uri == "https://video-weaver.example/v1/playlist/def.m3u8"
    assert audio.resolution is None and audio.uri == "https://usher.example/api/channel/hls/audio.m3u8"
    assert is_master_playlist(TWITCH_MASTER) and not is_master_playlist(FFMPEG_LIVE)


def test_plain_master_playlist_without_names():
    text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/index.m3u8\n"
    master = parse_master_playlist(text, "http://h/master.m3u8")
    assert master.variants[0].name is None
    assert master.variants[0].uri == "http://h/low/index.m3u8"


def test_master_without_usable_variants_raises():
    with pytest.raises(PlaylistParseError):
        parse_master_playlist("#EXTM3U\n#EXT-X-VERSION:3\n", BASE)


# One odd variant or rendition never costs the others: (name, bad lines, warning line).
ODD_MASTER_CASES = [
    ("stream-inf without uri", "#EXT-X-STREAM-INF:BANDWIDTH=1\n", 2),
    ("uri without stream-inf", "v.m3u8\n", 2),
    ("bad resolution kept without it", "#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=big\nv.m3u8\n", 2),
    ("media without name", '#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="g"\n', 2),
    ("garbled attributes", '#EXT-X-STREAM-INF:BANDWIDTH=1,,"\nv.m3u8\n', 2),
]


@pytest.mark.parametrize(("name", "bad", "line"), ODD_MASTER_CASES, ids=[c[0] for c in ODD_MASTER_CASES])
def test_odd_master_lines_are_skipped_alone(name, bad, line):
    good = "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/index.m3u8\n"
    master = parse_master_playlist("#EXTM3U\n" + bad + good, "http://h/master.m3u8")
    assert "http://h/low/index.m3u8" in [v.uri for v in master.variants]
    assert [w.line for w in master.warnings] == [line]


ATTRIBUTE_CASES = [
    ('A=1,B="x,y",C=0x1F', {"A": "1", "B": "x,y", "C": "0x1F"}),
    ("RESOLUTION=1280x720, FRAME-RATE=30.000", {"RESOLUTION": "1280x720", "FRAME-RATE": "30.000"}),
    ('X-TV-TWITCH-AD-URL="https://a/b?c=d"', {"X-TV-TWITCH-AD-URL": "https://a/b?c=d"}),
    ('EMPTY=""', {"EMPTY": ""}),
    ("", {}),
]


@pytest.mark.parametrize(("text", "expected"), ATTRIBUTE_CASES)
def test_attribute_lists(text, expected):
    assert parse_attribute_list(text) == expected


def test_byterange_header():
    assert ByteRange(length=100, offset=50).header == "bytes=50-149"
