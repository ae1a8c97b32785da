"""Playlists through the real app: every tag checked with the `m3u8` parser, holes, tombstones, limits."""

from __future__ import annotations

from datetime import datetime, timedelta

import m3u8
from yarl import URL

from tests.conftest import STORE_START
from tests.harness.media import FPS, store_clip
from tests.harness.store_builder import build_store
from wubloader.restreamer.state import STATE
from wubloader.store import create_tombstone

FMT = "%Y-%m-%dT%H:%M:%S"


def at(seconds: float) -> str:
    return f"{STORE_START + timedelta(seconds=seconds):{FMT}}"


async def get_playlist(client, url: str, **params) -> m3u8.M3U8:
    response = await client.get(url, params=params)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/vnd.apple.mpegurl"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return m3u8.loads(await response.text())


async def test_media_playlist_tags(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 60, duration=2.0)
    client = await make_client(tmp_path)
    playlist = await get_playlist(client, "/playlist/chan/source.m3u8", start=at(10), end=at(30))
    assert playlist.version == 3
    assert playlist.target_duration == 2
    assert playlist.media_sequence == 0
    assert playlist.is_endlist
    assert [s.duration for s in playlist.segments] == [2.0] * 10
    starts = [s.program_date_time.replace(tzinfo=None) for s in playlist.segments]
    assert starts == [STORE_START + timedelta(seconds=10 + 2 * i) for i in range(10)]
    assert not any(s.discontinuity for s in playlist.segments)
    first = playlist.segments[0].uri
    assert first.startswith("../../segments/chan/source/2024-05-01T10/00%3A10.000000-2.0-full-")
    segment = await client.get("/playlist/chan/" + first)
    assert segment.status == 200


async def test_range_crossing_hours_and_partial_coverage(tmp_path, make_client):
    build_store(tmp_path, STORE_START + timedelta(minutes=59), 60)  # 10:59:00 .. 11:01:00
    client = await make_client(tmp_path)
    playlist = await get_playlist(client, "/playlist/chan/source.m3u8", start=at(3530), end=at(3670))
    assert len(playlist.segments) == 60
    assert not playlist.is_endlist  # the range runs past the last segment


async def test_hole_and_tombstone_become_discontinuities(tmp_path, make_client):
    paths = build_store(tmp_path, STORE_START, 20, skip={5})
    create_tombstone(paths[12])  # segment index 13 (index 5 is skipped)
    client = await make_client(tmp_path)
    playlist = await get_playlist(client, "/playlist/chan/source.m3u8", start=at(0), end=at(40))
    assert len(playlist.segments) == 18
    flagged = [i for i, s in enumerate(playlist.segments) if s.discontinuity]
    assert flagged == [5, 12]
    assert playlist.is_endlist
    assert all(paths[12].name.replace(":", "%3A") not in s.uri for s in playlist.segments)


async def test_implicit_range_limits(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 1)
    build_store(tmp_path, STORE_START + timedelta(hours=13), 1)
    client = await make_client(tmp_path)
    response = await client.get("/playlist/chan/source.m3u8")
    assert response.status == 400
    assert await response.text() == "implicit range may not be longer than 12 hours\n"
    assert (await client.get("/playlist/chan/source.m3u8", params={"start": at(0)})).status == 400
    params = {"start": at(0), "end": at(14 * 3600)}
    playlist = await get_playlist(client, "/playlist/chan/source.m3u8", **params)
    assert [s.discontinuity for s in playlist.segments] == [False, True]
    live = await get_playlist(client, "/playlist/chan/source.m3u8", start=at(13 * 3600 - 60))
    assert len(live.segments) == 1 and not live.is_endlist and live.target_duration == 6


async def test_offsets_are_honoured(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 30)
    client = await make_client(tmp_path)
    playlist = await get_playlist(
        client, "/playlist/chan/source.m3u8", start="2024-05-01T12:00:10+02:00", end="2024-05-01T10:00:20Z"
    )
    assert len(playlist.segments) == 5


async def test_master_playlist(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 10, contents=[b"x" * 100_000])
    build_store(tmp_path, STORE_START, 10, quality="480p", contents=[b"y" * 25_000])
    (tmp_path / "chan" / "chat").mkdir()
    client = await make_client(tmp_path)
    query = f"?start={at(0)}&end={at(20)}".replace(":", "%3A")
    response = await client.get(URL(f"/playlist/chan.m3u8{query}", encoded=True))
    text = await response.text()
    master = m3u8.loads(text)
    assert master.is_variant
    variants = {p.uri: p.stream_info.bandwidth for p in master.playlists}
    assert variants == {f"chan/480p.m3u8{query}": 100_000, f"chan/source.m3u8{query}": 400_000}
    # Segments ffprobe cannot read get no FRAME-RATE (rather than a guessed one).
    assert all(p.stream_info.frame_rate is None for p in master.playlists)
    # The relative URI resolves to a working media playlist.
    media = await get_playlist(client, f"/playlist/chan/source.m3u8{query}")
    assert len(media.segments) == 10
    # A range outside a quality's hours leaves it out; a missing channel is 404.
    later = await client.get("/playlist/chan.m3u8", params={"start": "2024-05-01T12:00:00"})
    assert m3u8.loads(await later.text()).playlists == []
    assert (await client.get("/playlist/nochan.m3u8")).status == 404


async def test_master_playlist_frame_rate_from_the_media(tmp_path, make_client, clip):
    """Players step one real frame: FRAME-RATE comes from ffprobe of a stored segment."""
    store_clip(tmp_path, clip, STORE_START)
    client = await make_client(tmp_path)
    response = await client.get("/playlist/chan.m3u8", params={"start": at(0), "end": at(20)})
    text = await response.text()
    assert f"FRAME-RATE={FPS:.3f}" in text
    [variant] = m3u8.loads(text).playlists
    assert variant.stream_info.frame_rate == FPS
    # Probed once per segment file: the second request is served from the cache.
    state = client.app[STATE]
    assert len(state.frame_rates) == 1
    await client.get("/playlist/chan.m3u8", params={"start": at(0), "end": at(20)})
    assert len(state.frame_rates) == 1


async def test_live_playlist_grows_without_changing_served_lines(tmp_path, make_client):
    """Open-ended range, in-process with an injected clock: each poll only appends lines."""
    clock = {"now": STORE_START}
    client = await make_client(tmp_path, now=lambda: clock["now"])
    build_store(tmp_path, STORE_START, 1)
    previous: list[str] = []
    for step in range(1, 40):
        # Segment `step` arrives; every 7th arrives late (after the next one), making a transient hole.
        if step % 7 == 3:
            build_store(tmp_path, STORE_START + timedelta(seconds=2 * (step + 1)), 1)
        elif step % 7 == 4:
            build_store(tmp_path, STORE_START + timedelta(seconds=2 * (step - 1)), 1)
        else:
            build_store(tmp_path, STORE_START + timedelta(seconds=2 * step), 1)
        clock["now"] = STORE_START + timedelta(seconds=2 * step + 2)
        response = await client.get("/playlist/chan/source.m3u8", params={"start": at(0)})
        lines = (await response.text()).splitlines()
        assert lines[: len(previous)] == previous
        assert "#EXT-X-DISCONTINUITY" not in lines
        previous = lines
    assert len([line for line in previous if line.startswith("#EXTINF")]) >= 38


async def test_playlist_errors(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 3)
    client = await make_client(tmp_path)
    cases = {
        "/playlist/chan/nope.m3u8": 404,
        f"/playlist/chan/source.m3u8?start={at(10)}&end={at(5)}": 400,
        f"/playlist/chan/source.m3u8?start={at(10)}&end={at(10)}": 400,
        "/playlist/chan/source.m3u8?start=2024-05-01": 400,
    }
    for url, status in cases.items():
        assert (await client.get(url)).status == status, url


async def test_empty_quality_with_explicit_range(tmp_path, make_client):
    (tmp_path / "chan" / "source").mkdir(parents=True)
    client = await make_client(tmp_path)
    playlist = await get_playlist(client, "/playlist/chan/source.m3u8", start=at(0), end=at(10))
    assert playlist.segments == [] and not playlist.is_endlist
    assert (await client.get("/playlist/chan/source.m3u8")).status == 404
    _ = datetime
