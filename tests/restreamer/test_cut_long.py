"""Cuts of a 2 h range: every segment of it reaches ffmpeg (no argument-length limit), in every full type."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from tests.harness.media import encode_clip, store_clip

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]
FMT = "%Y-%m-%dT%H:%M:%S.%f"
HOURS = 2
RATE = 2  # frames per second: 2 h of 32x32 video encodes and cuts in seconds (smaller fails probing)


@pytest.fixture(scope="module")
def long_store(tmp_path_factory):
    clip = encode_clip(
        tmp_path_factory.mktemp("longclip"), HOURS * 3600, size="32x32", rate=RATE, audio=False
    )
    base = tmp_path_factory.mktemp("longcut")
    paths = store_clip(base, clip, STORE_START)
    # One `concat:` argument of all these paths would be far over Linux's 128 KiB per argument.
    assert sum(len(str(p)) + 1 for p in paths) > 128 * 1024
    return base


def video_frames(path) -> int:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    return int(out.split()[0])


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("kind", "content_type"), [("full", "video/mp2t"), ("mpegts", "video/mp2t"), ("webm", "video/webm")]
)
async def test_two_hour_full_cut(long_store, make_client, tmp_path, kind, content_type):
    client = await make_client(long_store)
    start, end = STORE_START + timedelta(seconds=3), STORE_START + timedelta(hours=HOURS, seconds=-5)
    response = await client.get(
        "/cut/chan/source.ts", params={"range": f"{start:{FMT}},{end:{FMT}}", "type": kind}, timeout=None
    )
    assert response.status == 200, await response.text()
    assert response.content_type == content_type
    out = tmp_path / f"cut.{kind}"
    out.write_bytes(await response.read())
    assert video_frames(out) == (end - start).total_seconds() * RATE
