"""A real restreamer: one stored segment with an absurd EXTINF does not hide the rest of its hour."""

import urllib.request
from datetime import timedelta

from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component
from tests.harness.store_builder import build_store, write_segment


def test_playlist_lists_every_segment_after_an_absurd_one(tmp_path, components):
    base = tmp_path / "store"
    build_store(base, STORE_START, 30)
    write_segment(base, STORE_START + timedelta(seconds=10), 3000.0, content=b"absurd")
    port = free_port()
    node = start_component(
        ["restreamer", "--base-dir", str(base), "--port", str(port)], tmp_path / "logs", port=port
    )
    components.append(node)
    url = f"{node.url}/playlist/chan/source.m3u8?start=2024-05-01T10:00:00&end=2024-05-01T10:01:00"
    with urllib.request.urlopen(url, timeout=30) as response:
        playlist = response.read().decode()
    assert playlist.count("#EXTINF:2.0,") == 30 and "3000" not in playlist
    assert "#EXT-X-DISCONTINUITY" not in playlist
