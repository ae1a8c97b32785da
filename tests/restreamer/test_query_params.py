"""Query parameters: read strictly, refused with a one-line reason, documented as read, no pydantic."""

from __future__ import annotations

import urllib.request
from datetime import datetime
from urllib.parse import quote

import pytest
from aiohttp.test_utils import make_mocked_request

from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component
from tests.harness.store_builder import build_store
from wubloader.restreamer.errors import BadRequest
from wubloader.restreamer.schemas import (
    TIMESTAMP_DESCRIPTION,
    RangeQuery,
    TombstonesQuery,
    WaveformQuery,
    parse_query,
    query_params,
)


def read(model, query: str):
    return parse_query(make_mocked_request("GET", f"/x?{query}"), model)


def refused(model, query: str) -> str:
    with pytest.raises(BadRequest) as caught:
        read(model, query)
    return str(caught.value)


def test_absent_optional_timestamps_are_none_and_unknown_parameters_are_ignored():
    assert read(RangeQuery, "_HLS_msn=4&foo=bar") == RangeQuery(start=None, end=None)


def test_a_timestamp_offset_is_converted_to_utc():
    query = read(RangeQuery, "start=2024-05-01T12:00:00%2B02:00&end=2024-05-01T10:00:01.5Z")
    assert query.start == datetime(2024, 5, 1, 10, 0, 0)
    assert query.end == datetime(2024, 5, 1, 10, 0, 1, 500000)


def test_bad_values_name_their_parameter():
    assert refused(RangeQuery, "start=yesterday").startswith("bad start: bad timestamp 'yesterday'")
    assert refused(RangeQuery, "end=2024-02-30T00:00:00").startswith("bad end: ")
    assert refused(RangeQuery, "start=1001-01-01T00:00:00") == (
        "timestamp '1001-01-01T00:00:00' is out of range (1970 to 8999)"
    )
    assert refused(WaveformQuery, "start=2024-05-01T10:00:00") == "bad end: required"
    assert refused(TombstonesQuery, "tombstones=maybe") == "bad tombstones: expected 'true' or 'false'"


def test_a_repeated_parameter_is_refused_not_picked():
    assert refused(RangeQuery, "start=2024-05-01T10:00:00&start=2024-05-01T10:00:01") == (
        "parameter 'start' given more than once"
    )


@pytest.mark.parametrize("size", ["10", "0x", "x64", "1234567x64", "\uff11x64", "10x10\n", " 10x10"])
def test_a_size_must_be_all_digits_x_digits(size):
    assert refused(
        WaveformQuery, f"start=2024-05-01T10:00:00&end=2024-05-01T10:00:01&size={quote(size)}"
    ).startswith("bad size: ")


def test_defaults_apply_and_sizes_read():
    query = read(WaveformQuery, "start=2024-05-01T10:00:00&end=2024-05-01T10:00:01")
    assert query.size == "1024x64" and query.dimensions() == (1024, 64)
    assert read(TombstonesQuery, "").tombstones == "false"


def test_documented_as_read():
    documented = {
        name: (spec.required, spec.schema(), spec.description) for name, spec in query_params(WaveformQuery)
    }
    timestamp = {"type": "string", "format": "date-time"}
    assert documented == {
        "start": (True, timestamp, TIMESTAMP_DESCRIPTION),
        "end": (True, timestamp, TIMESTAMP_DESCRIPTION),
        "size": (
            False,
            {"type": "string", "pattern": "^[0-9]{1,6}x[0-9]{1,6}$", "default": "1024x64"},
            "WIDTHxHEIGHT in pixels",
        ),
    }
    assert query_params(TombstonesQuery)[0][1].schema() == {
        "type": "string",
        "enum": ["true", "false"],
        "default": "false",
    }


@pytest.mark.slow
def test_a_serving_restreamer_never_loads_pydantic(tmp_path, components):
    """pydantic and its core take ~6 MiB resident: the restreamer's memory budget is 80 MiB."""
    build_store(tmp_path / "store", STORE_START, 30)
    port = free_port()
    server = start_component(
        ["restreamer", "--base-dir", str(tmp_path / "store"), "--port", str(port)],
        tmp_path / "logs",
        port=port,
    )
    components.append(server)
    url = f"{server.url}/playlist/chan/source.m3u8?start=2024-05-01T10:00:00&end=2024-05-01T10:01:00"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200 and b"#EXTINF" in response.read()
    with urllib.request.urlopen(f"{server.url}/openapi.json", timeout=30) as response:
        assert response.status == 200
    assert "pydantic" not in open(f"/proc/{server.process.pid}/maps").read()
