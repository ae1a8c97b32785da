"""Symlinks in the store: followed while they stay inside it, refused (403) on every route once they lead out.

Against a real `wubloader restreamer` process, over real media, so a followed symlink would answer 200.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from tests.harness.processes import free_port, start_component

pytestmark = pytest.mark.ffmpeg
FMT = "%Y-%m-%dT%H:%M:%S"
HOUR = "2024-05-01T10"
# Outside the store: real media under a channel of its own, and a secret.
SECRET = b"SECRET-OUTSIDE-THE-STORE"


def at(seconds: float) -> str:
    return f"{STORE_START + timedelta(seconds=seconds):{FMT}}"


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def restreamer(tmp_path_factory, clip):
    root = tmp_path_factory.mktemp("symlinks")
    base, outside = root / "store", root / "outside"
    paths = store_clip(base, clip, STORE_START)
    outside_paths = store_clip(outside, clip, STORE_START, channel="other")
    (outside / "secret.ts").write_bytes(SECRET)
    # Segment 3 (6-8 s) becomes a symlink to the secret; segment 5 (10-12 s) to media outside.
    paths[3].unlink()
    paths[3].symlink_to(outside / "secret.ts")
    paths[5].unlink()
    paths[5].symlink_to(outside_paths[5])
    # A directory named like a segment (12-14 s).
    paths[6].unlink()
    paths[6].mkdir()
    (base / "evil").symlink_to(outside / "other", target_is_directory=True)
    (base / "chan" / "evilq").symlink_to(outside / "other" / "source", target_is_directory=True)
    (base / "alias").symlink_to(base / "chan", target_is_directory=True)
    shutil.copytree(base / "chan" / "source" / HOUR, base / "chan" / "copy" / HOUR, symlinks=True)
    (base / "chan" / "copy" / HOUR).rename(base / "chan" / "copy" / "hour-moved")
    (base / "chan" / "copy" / HOUR).symlink_to(outside / "other" / "source" / HOUR, target_is_directory=True)
    port = free_port()
    component = start_component(
        ["restreamer", "--base-dir", str(base), "--port", str(port)], root / "logs", port=port
    )
    yield component
    component.stop()


REFUSED = [
    # a rough cut over a segment-named symlink to a non-media secret
    f"/cut/chan/source.ts?range={at(6)},{at(8)}&type=rough",
    f"/cut/chan/source.ts?range={at(4)},{at(9)}&type=rough",
    # cuts, frames and waveforms over a symlink to real media outside
    f"/cut/chan/source.ts?range={at(10)},{at(12)}&type=rough",
    f"/cut/chan/source.ts?range={at(10.5)},{at(11.5)}&type=full",
    f"/frame/chan/source.png?timestamp={at(10.5)}",
    f"/waveform/chan/source.png?start={at(10)}&end={at(12)}",
    # channel, quality and hour directories leading out of the store
    "/files/evil",
    "/files/evil/source",
    f"/files/evil/source/{HOUR}",
    f"/files/chan/evilq/{HOUR}",
    f"/files/chan/copy/{HOUR}",
    "/playlist/evil.m3u8",
    f"/playlist/evil/source.m3u8?start={at(0)}&end={at(10)}",
    f"/playlist/chan/evilq.m3u8?start={at(0)}&end={at(10)}",
    f"/playlist/chan/copy.m3u8?start={at(0)}&end={at(10)}",
    f"/frame/evil/source.png?timestamp={at(1)}",
    f"/cut/chan/copy.ts?range={at(0)},{at(2)}&type=rough",
]


@pytest.mark.parametrize("path", REFUSED)
def test_routes_never_leave_the_store(restreamer, path):
    status, body = get(restreamer.url + path)
    assert status == 403, (status, body[:200])
    assert body.count(b"\n") == 1
    assert SECRET not in body


def test_a_directory_named_like_a_segment_is_404(restreamer):
    status, body = get(f"{restreamer.url}/frame/chan/source.png?timestamp={at(12.5)}")
    assert status == 404, body
    status, body = get(f"{restreamer.url}/cut/chan/source.ts?range={at(12)},{at(14)}&type=rough")
    assert status == 404, body


def test_symlinks_inside_the_store_are_followed(restreamer):
    status, body = get(f"{restreamer.url}/files/alias")
    assert (status, body) == (200, b'["copy", "source"]')  # listings never show symlinks
    status, body = get(f"{restreamer.url}/playlist/alias/source.m3u8?start={at(0)}&end={at(4)}")
    assert status == 200
    assert body.count(b"#EXTINF") == 2
    status, body = get(f"{restreamer.url}/cut/alias/source.ts?range={at(0)},{at(4)}&type=rough")
    assert status == 200
    assert len(body) > 1000
    assert "Traceback" not in restreamer.log()
