"""A quality whose sound was archived separately (`QUALITY-audio`): offered by the master playlist, used by full cuts."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from wubloader.store import SegmentType, format_duration, hash_bytes, segment_path

pytestmark = pytest.mark.ffmpeg
SEGMENTS = 5
FMT = "%Y-%m-%dT%H:%M:%S.%f"


def split_stream(data: bytes, directory, name: str, keep: str) -> bytes:
    """One elementary side (`v` or `a`) of a TS segment, timestamps kept, as a packager would serve it."""
    source = directory / f"{name}.ts"
    source.write_bytes(data)
    out = directory / f"{name}-{keep}.ts"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", f"0:{keep}", "-c", "copy",
         "-copyts", "-muxdelay", "0", "-f", "mpegts", str(out)],
        check=True, timeout=60,
    )  # fmt: skip
    return out.read_bytes()


@pytest.fixture(scope="module")
def store(tmp_path_factory, clip):
    base = tmp_path_factory.mktemp("altaudio")
    work = tmp_path_factory.mktemp("altaudio-work")
    when = STORE_START
    for i, (data, duration) in enumerate(zip(clip.segments[:SEGMENTS], clip.durations, strict=False)):
        for quality, keep in (("source", "v"), ("source-audio", "a")):
            part = split_stream(data, work, f"s{i}", keep)
            path = segment_path(
                base, "chan", quality, when, format_duration(duration), SegmentType.FULL, hash_bytes(part)
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(part)
        when += timedelta(seconds=duration)
    return base


async def test_master_playlist_offers_the_audio_as_the_variants_rendition(store, make_client):
    client = await make_client(store)
    response = await client.get("/playlist/chan.m3u8")
    assert response.status == 200
    text = await response.text()
    assert re.search(r'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="source-audio",.*URI="chan/source-audio.m3u8"', text)
    inf = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert len(inf) == 1 and inf[0].endswith('AUDIO="source-audio"')  # the sound is no variant of its own


def probe(path, entries: str, stream: str) -> list[str]:
    return subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", entries, "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.split()  # fmt: skip


def mean_volume(path) -> float:
    err = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-i", str(path), "-map", "0:a", "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    ).stderr  # fmt: skip
    return float(re.search(r"mean_volume: (-?[0-9.]+) dB", err).group(1))


@pytest.mark.parametrize("cut_type", ["full", "webm"])
async def test_full_cut_takes_its_sound_from_the_audio_quality(store, make_client, tmp_path, cut_type):
    client = await make_client(store)
    start, end = STORE_START + timedelta(seconds=1.0), STORE_START + timedelta(seconds=7.0)
    response = await client.get(
        "/cut/chan/source.ts", params={"range": f"{start:{FMT}},{end:{FMT}}", "type": cut_type}
    )
    assert response.status == 200, await response.text()
    out = tmp_path / f"cut.{cut_type}"
    out.write_bytes(await response.read())
    assert set(probe(out, "stream=codec_type", "a")) == {"audio"}  # (TS lists streams per program too)
    frames = len(probe(out, "packet=pts", "v"))
    assert frames == 150  # 6 s at 25 fps
    audio_seconds = sum(
        float(d.strip(",")) for d in probe(out, "packet=duration_time", "a") if d.strip(",") != "N/A"
    )
    assert abs(audio_seconds - 6.0) < 0.1
    assert mean_volume(out) > -40.0  # the tone, not padded silence
