"""Proves runtime/timeparse.py: lenient `parse`, strict `parse_utc_only`, `format_utc` round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wubloader.errors import WubloaderError
from wubloader.runtime import timeparse
from wubloader.runtime.errors import BadTimestamp

D = datetime

UTC_ONLY_VALID = [
    ("2024-01-02T03:04:05", D(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05Z", D(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05.1", D(2024, 1, 2, 3, 4, 5, 100000)),
    ("2024-01-02T03:04:05.12", D(2024, 1, 2, 3, 4, 5, 120000)),
    ("2024-01-02T03:04:05.123", D(2024, 1, 2, 3, 4, 5, 123000)),
    ("2024-01-02T03:04:05.1234", D(2024, 1, 2, 3, 4, 5, 123400)),
    ("2024-01-02T03:04:05.12345", D(2024, 1, 2, 3, 4, 5, 123450)),
    ("2024-01-02T03:04:05.123456", D(2024, 1, 2, 3, 4, 5, 123456)),
    ("2024-01-02T03:04:05.000001Z", D(2024, 1, 2, 3, 4, 5, 1)),
    ("2024-01-02T03:04:05+00:00", D(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05-00:00", D(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05+02:00", D(2024, 1, 2, 1, 4, 5)),
    ("2024-01-02T03:04:05.5-05:30", D(2024, 1, 2, 8, 34, 5, 500000)),
    ("2024-01-01T00:30:00+01:00", D(2023, 12, 31, 23, 30)),  # offset crosses a year boundary
    ("2024-02-29T23:59:59.999999", D(2024, 2, 29, 23, 59, 59, 999999)),
    ("0001-01-01T00:00:00", D(1, 1, 1)),
    ("9999-12-31T23:59:59.999999Z", D(9999, 12, 31, 23, 59, 59, 999999)),
]

UTC_ONLY_INVALID = [
    "",
    " ",
    "2024-01-02",
    "2024-01-02T03:04",
    "2024-01-02 03:04:05",  # space instead of T
    "2024-01-02t03:04:05",
    "2024-01-02T03:04:05z",
    " 2024-01-02T03:04:05",
    "2024-01-02T03:04:05 ",
    "2024-01-02T03:04:05\n",
    "2024-01-02T03:04:05.",
    "2024-01-02T03:04:05.1234567",  # 7 fraction digits
    "2024-01-02T03:04:05,5",
    "2024-01-02T03:04:05+0200",
    "2024-01-02T03:04:05+02",
    "2024-01-02T03:04:05+24:00",
    "2024-01-02T03:04:05+02:60",
    "2024-13-01T00:00:00",  # month 13
    "2024-00-10T00:00:00",
    "2023-02-29T00:00:00",  # not a leap year
    "2024-04-31T00:00:00",
    "2024-01-02T24:00:00",
    "2024-01-02T23:60:00",
    "2024-12-31T23:59:60",  # leap second
    "0000-01-01T00:00:00",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:00:00-01:00",  # after year 9999 in UTC
    "20240102T030405",
    "2024-1-2T3:4:5",
    "+2024-01-02T03:04:05",
    "2024-01-02T03:04:05Z[UTC]",
    "１２３４-01-02T03:04:05",  # fullwidth digits
    "٢٠٢٤-01-02T03:04:05",  # Arabic-Indic digits
    "2024-01-02T03:04:05é",
    "now",
    "1700000000",
    "2024-01-02T03:04:05" * 50,  # very long
]


@pytest.mark.parametrize(("text", "expected"), UTC_ONLY_VALID)
def test_parse_utc_only_valid(text: str, expected: datetime) -> None:
    result = timeparse.parse_utc_only(text)
    assert result == expected
    assert result.tzinfo is None


@pytest.mark.parametrize("text", UTC_ONLY_INVALID)
def test_parse_utc_only_invalid(text: str) -> None:
    with pytest.raises(BadTimestamp) as info:
        timeparse.parse_utc_only(text)
    error = info.value
    assert isinstance(error, WubloaderError)
    assert isinstance(error, ValueError)
    assert error.value == text
    message = str(error)
    assert "\n" not in message
    assert message.isprintable()
    assert len(message) < 200
    assert repr(text[:10])[:-1] in message  # the bad value is quoted


def test_bad_timestamp_message_escapes_and_truncates() -> None:
    with pytest.raises(BadTimestamp) as info:
        timeparse.parse_utc_only("\x00\x1b[31m" + "9" * 100)
    message = str(info.value)
    assert "\\x00" in message and "\\x1b" in message
    assert "…" in message
    assert "9" * 70 not in message


PARSE_VALID = [
    ("2024-01-02T03:04:05", D(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05Z", D(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02T03:04:05.031+08:00", D(2024, 1, 1, 19, 4, 5, 31000)),  # HLS spec example style
    ("2024-01-02T03:04:05.031+0800", D(2024, 1, 1, 19, 4, 5, 31000)),
    ("2024-01-02T03:04:05-05", D(2024, 1, 2, 8, 4, 5)),
    ("2024-01-02T03:04:05.123456789Z", D(2024, 1, 2, 3, 4, 5, 123456)),  # nanoseconds truncated
    ("2024-01-02 03:04:05", D(2024, 1, 2, 3, 4, 5)),
    ("20240102T030405Z", D(2024, 1, 2, 3, 4, 5)),
    ("2024-01-02", D(2024, 1, 2)),
    ("  2024-01-02T03:04:05Z\r\n", D(2024, 1, 2, 3, 4, 5)),
]

PARSE_INVALID = [
    "",
    "   ",
    "garbage",
    "2024-13-01T00:00:00",
    "2024-01-02T03:04:05+25:00",
    "x" * 1000,
    "٢٠٢٤-01-02",
]


@pytest.mark.parametrize(("text", "expected"), PARSE_VALID)
def test_parse_valid(text: str, expected: datetime) -> None:
    result = timeparse.parse(text)
    assert result == expected
    assert result.tzinfo is None


@pytest.mark.parametrize("text", PARSE_INVALID)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(BadTimestamp):
        timeparse.parse(text)


@pytest.mark.parametrize(("text", "expected"), UTC_ONLY_VALID)
def test_parse_accepts_everything_parse_utc_only_does(text: str, expected: datetime) -> None:
    assert timeparse.parse(text) == expected


ROUND_TRIP = [
    D(2024, 1, 2, 3, 4, 5),
    D(2024, 1, 2, 3, 4, 5, 6),
    D(1, 1, 1),
    D(999, 12, 31, 23, 59, 59, 999999),
    D(9999, 12, 31, 23, 59, 59, 999999),
]


@pytest.mark.parametrize("value", ROUND_TRIP)
def test_format_utc_round_trips(value: datetime) -> None:
    text = timeparse.format_utc(value)
    assert text.endswith("Z")
    assert len(text) == 27
    assert timeparse.parse_utc_only(text) == value
    assert timeparse.parse(text) == value


def test_format_utc_converts_aware_values() -> None:
    aware = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert timeparse.format_utc(aware) == "2024-01-02T01:04:05.000000Z"


def test_now_utc_is_naive_and_current() -> None:
    now = timeparse.now_utc()
    assert now.tzinfo is None
    assert abs(now - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=5)
