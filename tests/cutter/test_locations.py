"""The locations file: strict keys and types, per-backend options, defaults."""

from __future__ import annotations

import pytest

from wubloader.cutter.backend_local import LocalOptions
from wubloader.cutter.backend_youtube import YouTubeOptions
from wubloader.cutter.errors import LocationsError
from wubloader.cutter.locations import BackendType, parse_locations
from wubloader.media.cut_engine import MPEGTS_ARGS
from wubloader.media.cut_plan import CutType


def test_full_example():
    locations = parse_locations(
        '{"desk": {"type": "local", "cut_type": "smart", "path": "/v", "url_prefix": "https://x/"},'
        ' "yt": {"type": "youtube", "no_updater": true, "encode_args": ["-c:v", "libx264"], "category_id": 20},'
        ' "arch": {"type": "local-archive", "path": "/a"}}'
    )
    desk, yt, arch = locations["desk"], locations["yt"], locations["arch"]
    assert (desk.type, desk.cut_type, desk.encode_args) == (BackendType.LOCAL, CutType.SMART, MPEGTS_ARGS)
    assert desk.options == LocalOptions(path=desk.options.path, url_prefix="https://x/", write_info=True)
    assert (yt.cut_type, yt.no_updater, yt.no_uploader) == (CutType.FULL, True, False)
    assert yt.encode_args == ("-c:v", "libx264")
    assert isinstance(yt.options, YouTubeOptions) and yt.options.category_id == "20"
    assert arch.cut_type is CutType.ROUGH


@pytest.mark.parametrize(
    "text, message",
    [
        ("[]", "must be a JSON object with at least one location"),
        ("{}", "at least one location"),
        ("{nope", "not valid JSON"),
        ('{"a": {"type": "ftp"}}', "'type' must be one of local, local-archive, youtube, got 'ftp'"),
        (
            '{"a": {"type": "local", "path": "/x", "cut_type": "rough"}}',
            "'cut_type' must be fast, smart or full",
        ),
        ('{"a": {"type": "local", "path": "/x", "colour": 1}}', "unknown key 'colour'"),
        ('{"a": {"type": "local", "path": "/x", "no_updater": "yes"}}', "'no_updater' must be true/false"),
        (
            '{"a": {"type": "local", "path": "/x", "encode_args": [1]}}',
            "'encode_args' must be a list of strings",
        ),
        (
            '{"a": {"type": "local-archive", "path": "/x", "cut_type": "smart"}}',
            "always keeps whole segments",
        ),
        ('{"a": 3}', "location 'a': must be a JSON object"),
    ],
)
def test_rejected(text, message):
    with pytest.raises(LocationsError, match=message.replace("(", r"\(")):
        parse_locations(text)
