"""`wubloader node --creds`: the node's own cutter can upload to youtube, and bad credentials stop start-up."""

from __future__ import annotations

import json

import pytest

from tests.node.test_node_name import editing
from wubloader.cutter.app import build_backends
from wubloader.cutter.backend_youtube import YouTubeBackend
from wubloader.runtime.errors import RuntimeConfigError

CREDENTIALS = {"client_id": "cid", "client_secret": "secret", "refresh_token": "refresh"}


@pytest.fixture
def youtube_locations(tmp_path):
    path = tmp_path / "locations.json"
    path.write_text(json.dumps({"yt": {"type": "youtube", "cut_type": "smart"}}))
    return path


async def test_creds_reach_the_nodes_youtube_backend(tmp_path, youtube_locations):
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps(CREDENTIALS))
    config = editing(tmp_path, "--locations", str(youtube_locations), "--creds", str(creds))
    assert config.creds == creds and config.locations is not None
    backends = build_backends(config.locations, config.creds)
    assert isinstance(backends["yt"], YouTubeBackend)
    await backends["yt"].aclose()


def test_a_youtube_location_without_creds_is_refused(tmp_path, youtube_locations):
    with pytest.raises(RuntimeConfigError, match=r"a youtube location needs --creds FILE\.json"):
        editing(tmp_path, "--locations", str(youtube_locations))


def test_unreadable_creds_are_refused_at_start_up(tmp_path, youtube_locations):
    creds = tmp_path / "creds.json"
    creds.write_text("{not json")
    with pytest.raises(RuntimeConfigError, match="cannot read JSON"):
        editing(tmp_path, "--locations", str(youtube_locations), "--creds", str(creds))


def test_creds_without_locations_are_refused(tmp_path):
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps(CREDENTIALS))
    with pytest.raises(RuntimeConfigError, match="--creds needs --locations"):
        editing(tmp_path, "--creds", str(creds))
