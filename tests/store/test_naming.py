"""Segment names: the seed's vectors, round trips and rejections, from one case table."""

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from wubloader.store import BadSegmentName, SegmentType, format_duration, hash_bytes, parse_segment_path
from wubloader.store.errors import UnsafePath
from wubloader.store.naming import (
    check_component,
    decode_hash,
    hour_columns,
    hour_name,
    parse_hour,
    parse_hour_names,
    parse_segment_name,
    segment_filename,
    segment_path,
    tombstone_name,
)

SEED_PATH = (
    "desertbus/source/2019-11-13T02/45:51.608000-2.0-full-7IS92rssMzoSBQDIevHStbTNy-URRV3Vw-jzZ6pwOZM.ts"
)

ROUND_TRIP_CASES = [
    # (start, duration text, type, hash)
    (
        datetime(2019, 11, 13, 2, 45, 51, 608000),
        "2.0",
        SegmentType.FULL,
        "7IS92rssMzoSBQDIevHStbTNy-URRV3Vw-jzZ6pwOZM",
    ),
    (
        datetime(2024, 1, 1, 0, 0, 0, 1),
        "2.002",
        SegmentType.SUSPECT,
        "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
    ),
    (datetime(2024, 12, 31, 23, 59, 59, 999999), "6.006", SegmentType.PARTIAL, "a-b-c-d-e" + "A" * 34),
    (datetime(2000, 2, 29, 12, 30, 0, 0), "0.5", SegmentType.FULL, "_" * 43),
]


def test_seed_example_parses():
    seg = parse_segment_path(SEED_PATH)
    assert seg.channel == "desertbus"
    assert seg.quality == "source"
    assert seg.start == datetime(2019, 11, 13, 2, 45, 51, 608000)
    assert seg.duration == timedelta(seconds=2)
    assert seg.end == datetime(2019, 11, 13, 2, 45, 53, 608000)
    assert seg.type is SegmentType.FULL
    assert seg.hash == "7IS92rssMzoSBQDIevHStbTNy-URRV3Vw-jzZ6pwOZM"
    assert not seg.is_partial


def test_empty_content_hash():
    assert hash_bytes(b"") == "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
    assert len(decode_hash(hash_bytes(b"x"))) == 32


@pytest.mark.parametrize(("start", "duration", "seg_type", "hash_"), ROUND_TRIP_CASES)
def test_round_trip_is_byte_identical(start, duration, seg_type, hash_):
    path = segment_path(Path("base"), "chan", "src", start, duration, seg_type, hash_)
    seg = parse_segment_path(path)
    assert seg.start == start  # microsecond exact
    assert seg.duration == timedelta(seconds=float(duration))
    assert seg.type is seg_type
    assert seg.hash == hash_
    rebuilt = segment_filename(seg.start, format_duration(seg.duration.total_seconds()), seg.type, seg.hash)
    assert rebuilt == path.name


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (2.0, "2.0"),
        (2.002, "2.002"),
        (6.006, "6.006"),
        (0.5, "0.5"),
        (0.00001, "0.00001"),
        (3600.0, "3600.0"),
    ],
)
def test_duration_never_uses_exponent(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 3600.001, 1e16, 3e11, 1e308])
def test_bad_durations_refused(bad):
    with pytest.raises(BadSegmentName):
        format_duration(bad)


BAD_NAMES = [
    "45:51.608000-2.0-full.ts",  # too few parts
    "45:51.608000-2.0-bogus-abc.ts",  # unknown type
    "45:51.608000-2.0-full-abc.json",  # wrong suffix
    "45-51.608000-2.0-full-abc.ts",  # old documented (wrong) time format
    "61:00.000000-2.0-full-abc.ts",  # minute out of range
    "45:51.6080001-2.0-full-abc.ts",  # 7 fractional digits
    "45:51.60x000-2.0-full-abc.ts",
    "45:51.608000-two-full-abc.ts",
    "45:51.608000-nan-full-abc.ts",
    "45:51.608000--1-full-abc.ts",
    "4５:51.608000-2.0-full-abc.ts",  # non-ASCII digit
    ".45:51.608000-2.0-full-abc.ts",  # hidden
    # implausible durations: none may leak OverflowError or ValueError
    "45:51.608000-1e308-full-abc.ts",
    "45:51.608000-300000000000-full-abc.ts",
    "45:51.608000-3600.5-full-abc.ts",
    "45:51.608000-2e0-full-abc.ts",  # exponent notation
    "45:51.608000-inf-full-abc.ts",
    "45:51.608000-1_0.0-full-abc.ts",  # float() takes underscores
    "45:51.608000- 2.0-full-abc.ts",  # and spaces
    "45:51.608000-+2.0-full-abc.ts",  # and signs
    "45:51.608000-2.-full-abc.ts",
    "45:51.608000-2.0-full-.ts",  # empty hash
    "45:51.608000-2.0-full-" + "A" * 44 + ".ts",  # longer than a SHA-256
    "45:51.608000-2.0-full-ab=c.ts",  # not url-safe base64
    "45:51.608000-2.0-temp-" + "a" * 65 + ".ts",
    "45:51.608000-2.0-full-abc" + "é" * 120 + ".ts",  # not ASCII, over 255 bytes
    "45:51.608000-2.0-temp-" + "a" * 240 + ".ts",  # over 255 bytes
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_refused(name):
    with pytest.raises(BadSegmentName):
        parse_segment_path(f"c/q/2024-01-01T00/{name}")


def test_a_segment_ending_after_the_last_representable_time_is_refused():
    with pytest.raises(BadSegmentName):
        parse_segment_path("c/q/9999-12-31T23/59:00.000000-61.0-full-abc.ts")
    seg = parse_segment_path("c/q/9999-12-31T23/59:00.000000-59.0-full-abc.ts")
    assert seg.end == datetime(9999, 12, 31, 23, 59, 59)


@pytest.mark.parametrize(
    "hour",
    [
        "2024-01-01",
        "2024-13-01T00",
        "2024-01-01T24",
        "2024_01_01T00",
        "0000-01-01T00",
        "+999-01-01T00",  # int() takes signs,
        " 999-01-01T00",  # spaces,
        "2_24-01-01T00",  # underscores
        "２０２４-01-01T00",  # and other scripts' digits
        "2024-01-01T0\u0663",
    ],
)
def test_bad_hours_refused(hour):
    with pytest.raises(BadSegmentName):
        parse_segment_path(f"c/q/{hour}/45:51.608000-2.0-full-abc.ts")


@pytest.mark.parametrize("year", [1, 999, 1000, 2024, 9999])
def test_hour_names_are_zero_padded_and_parse_back(year):
    when = datetime(year, 1, 2, 3)
    name = hour_name(when)
    assert len(name) == 13 and name.startswith(f"{year:04d}-")
    assert parse_hour(name) == when


def test_parts_over_255_bytes_are_refused():
    with pytest.raises(BadSegmentName):
        parse_segment_path("c" * 256 + "/q/2024-01-01T00/45:51.608000-2.0-full-abc.ts")
    with pytest.raises(BadSegmentName):
        parse_segment_path("c/" + "é" * 128 + "/2024-01-01T00/45:51.608000-2.0-full-abc.ts")
    with pytest.raises(UnsafePath):
        check_component("é" * 128)
    assert check_component("é" * 127) == "é" * 127


def test_short_fractions_accepted():
    seg = parse_segment_path("c/q/2024-01-01T00/00:01.5-2.0-full-abc.ts")
    assert seg.start == datetime(2024, 1, 1, 0, 0, 1, 500000)


def test_temp_has_no_hash_and_tombstone_name():
    seg = parse_segment_path("c/q/2024-01-01T00/00:01.500000-2.0-temp-1234-5678.ts")
    assert seg.type is SegmentType.TEMP and seg.hash is None
    assert tombstone_name("00:01.500000-2.0-full-abc.ts") == "00:01.500000-2.0-full-abc.tombstone"


@pytest.mark.parametrize("component", ["", ".", "..", ".hidden", "a/b", "a\\b", "a\0b", "a\nb"])
def test_unsafe_components_refused(component):
    with pytest.raises(UnsafePath):
        check_component(component)


def bulk_parse(hour, names):
    return parse_hour_names(hour, names, hour_columns(hour, names), "c", "q", "")


GOOD_NAMES = [
    "00:00.000000-2.0-full-" + "A" * 43 + ".ts",
    "00:02.5-2.002-suspect-abc_-.ts",
    "00:04.123456-1.5-partial-xyz.ts",
    "00:05.000000-2.0-temp-" + "b" * 64 + ".ts",
    "59:58.000000-3600.0-full-end.ts",
]


@pytest.mark.parametrize(
    "bad", [None, *BAD_NAMES, "a\nb", "00:00.000000-2.0-full-abc.ts\n00:00.1-2.0-full-x.ts"]
)
def test_bulk_parse_equals_the_exact_parser(bad):
    """parse_hour_names gives what parse_segment_name gives, name by name, whatever the hour holds."""
    hour = datetime(2024, 1, 1, 5)
    names = GOOD_NAMES if bad is None else [*GOOD_NAMES[:2], bad, *GOOD_NAMES[2:]]
    expected = []
    for name in names:
        try:
            expected.append(parse_segment_name(hour, name, "c", "q", "/s/c/q/2024-01-01T05/" + name))
        except BadSegmentName:
            expected.append(None)
    assert (
        parse_hour_names(hour, names, hour_columns(hour, names), "c", "q", "/s/c/q/2024-01-01T05/")
        == expected
    )
    assert sum(seg is None for seg in expected) == (0 if bad is None else 1)


UNIFORM_HOUR = [f"{i // 30:02d}:{i % 30 * 2:02d}.000000-2.000-full-h{i}.ts" for i in range(1800)]
ODD_ONES = [
    *BAD_NAMES,
    "01:00.5-2.000-full-short.ts",  # a valid time of fewer than six digits
    "01:00.500000-2.002-full-other.ts",  # another duration
    "01:00.500000-2.0-full-other.ts",  # the same duration, written differently
    "01:00.500000-2.000-suspect-other.ts",
    "01:00.500000-2.000-temp-" + "b" * 64 + ".ts",  # a temp name's uuid is longer than a hash
    "01:00.500000-2.000-full-" + "A" * 43 + ".ts",
    "01:00.500000-2.000-full-" + "A" * 44 + ".ts",
    "01:00.500000-2.000-full-abc.ts\n01:02.500000-2.000-full-abd.ts",  # two names in one
    "01:00.500000-2.000-full-abc.ts\n",
]


@pytest.mark.parametrize("odd", [None, *ODD_ONES])
@pytest.mark.parametrize("hour", [datetime(2024, 1, 1, 5), datetime(9999, 12, 31, 23)])
def test_bulk_parse_of_a_uniform_hour_equals_the_exact_parser(odd, hour):
    """The usual hour (one duration and type, six-digit times) takes a cheaper check: any name
    that differs must still give what parse_segment_name gives."""
    names = sorted(UNIFORM_HOUR if odd is None else [*UNIFORM_HOUR, odd])
    folder = f"/s/c/q/{hour:%Y-%m-%dT%H}/"
    expected = []
    for name in names:
        try:
            expected.append(parse_segment_name(hour, name, "c", "q", folder + name))
        except BadSegmentName:
            expected.append(None)
    assert parse_hour_names(hour, names, hour_columns(hour, names), "c", "q", folder) == expected


@pytest.mark.parametrize(
    "names",
    [
        ["00:00.000000-2.0-temp-" + "b" * 64 + ".ts", "00:02.000000-2.0-temp-" + "c" * 64 + ".ts"],
        ["59:00.000000-61.0-full-abc.ts", "59:01.000000-61.0-full-abd.ts"],
        ["00:00.000000-9999.0-full-abc.ts"],
    ],
)
def test_bulk_parse_of_uniform_odd_hours_equals_the_exact_parser(names):
    """Uniform, but temp (long hashes), past the last representable time, or implausibly long."""
    for hour in (datetime(2024, 1, 1, 5), datetime(9999, 12, 31, 23)):
        expected = []
        for name in names:
            try:
                expected.append(parse_segment_name(hour, name, None, None, name))
            except BadSegmentName:
                expected.append(None)
        assert parse_hour_names(hour, names, hour_columns(hour, names), None, None, "") == expected


def test_bulk_parsed_segments_are_frozen_hashable_records_with_derived_path_and_hash():
    hour = datetime(2024, 1, 1, 5)
    folder = "/s/c/q/2024-01-01T05/"
    bulk = parse_hour_names(hour, GOOD_NAMES, hour_columns(hour, GOOD_NAMES), "c", "q", folder)
    exact = [parse_segment_name(hour, name, "c", "q", folder + name) for name in GOOD_NAMES]
    assert {hash(s) for s in bulk} == {hash(s) for s in exact} and repr(bulk) == repr(exact)
    assert [s.path for s in bulk] == [folder + n for n in GOOD_NAMES]
    assert [s.hash for s in bulk] == ["A" * 43, "abc_-", "xyz", None, "end"]  # a hash may hold "-"
    assert all(s.folder is bulk[0].folder for s in bulk)  # one string for the hour
    with pytest.raises(dataclasses.FrozenInstanceError):
        bulk[0].name = "x"  # type: ignore[misc]


def test_bulk_parse_refuses_an_end_after_the_last_representable_time():
    hour = datetime(9999, 12, 31, 23)
    names = ["59:00.000000-61.0-full-abc.ts", "59:00.000000-59.0-full-abc.ts"]
    parsed = parse_hour_names(hour, names, hour_columns(hour, names), None, None, "")
    assert parsed[0] is None
    assert parsed[1] is not None and parsed[1].end == datetime(9999, 12, 31, 23, 59, 59)


def test_bulk_parse_reuses_offsets_across_hours_correctly():
    """The offsets cache is keyed by the time text alone: the same names in two hours start 1 h apart."""
    first = bulk_parse(datetime(2024, 1, 1, 5), GOOD_NAMES)
    second = bulk_parse(datetime(2024, 1, 1, 6), GOOD_NAMES)
    assert [b.start - a.start for a, b in zip(first, second, strict=True)] == [timedelta(hours=1)] * len(
        GOOD_NAMES
    )
