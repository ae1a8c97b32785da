"""The downloader archiving real-world playlists served by a local origin: what is stored, and what never is."""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
from datetime import datetime

import pytest
from prometheus_client import REGISTRY

from tests.downloader.fixture_origin import FixtureOrigin, fixture, hash_of
from tests.downloader.support import stored_segments, temp_files
from tests.downloader.test_live_archive import wait_async
from wubloader.downloader.config import DownloaderConfig
from wubloader.downloader.manager import Downloader


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def errors(channel: str, kind: str, quality: str = "source") -> float:
    return metric("wubloader_downloader_errors_total", channel=channel, quality=quality, kind=kind)


def playlist_requests(origin: FixtureOrigin) -> int:
    """Playlist polls so far, whichever URL (a redirect's source or its target) answered them."""
    return sum(count for path, count in origin.hits.items() if path.endswith(".m3u8"))


async def archive(tmp_path, origin: FixtureOrigin, source_path: str, channel: str, until, **config):
    """Run a Downloader on `origin` until `until(base)` holds (or fail after 30 s); returns the store root."""
    base = tmp_path / "store"
    settings = {"poll_interval": 0.2, "retry_initial": 0.1, "retry_max": 0.5, **config}
    downloader = Downloader(
        DownloaderConfig(channel=channel, source=origin.url(source_path), base_dir=base, **settings)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(downloader.run(stop))
    try:
        await wait_async(lambda: until(base) or task.done(), 30, "the archive")
        polls = playlist_requests(origin)  # a few more polls: nothing else may appear
        await wait_async(lambda: playlist_requests(origin) >= polls + 3 or task.done(), 60, "more polls")
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        await origin.close()
    assert not temp_files(base)
    return base


def stored(base, channel: str, quality: str = "source") -> dict[datetime, str]:
    return {s.start: s.hash for s in stored_segments(base, channel, quality) if s.type.value == "full"}


@pytest.mark.parametrize(
    ("name", "first_live"),
    [
        ("twitch_stitched_ad_2021.m3u8", datetime(2021, 1, 9, 15, 56, 17, 112000)),
        ("twitch_stitched_ad_2023.m3u8", datetime(2023, 11, 8, 4, 16, 2, 498000)),
    ],
)
async def test_first_live_segment_after_an_ad_pod_is_archived(tmp_path, name, first_live):
    channel = "adpod" + name[-9:-5]
    before = metric(  # the registry is process-global: count this test's skips only
        "wubloader_downloader_ad_segments_skipped_total",
        channel=channel,
        quality="source",
        reason="amazon_title",
    )
    origin = await FixtureOrigin({"/live.m3u8": fixture(name)}).start()
    base = await archive(tmp_path, origin, "/live.m3u8", channel, lambda b: first_live in stored(b, channel))
    assert first_live in stored(base, channel)
    assert not [path for path in origin.hits if "/ad-" in path]  # no ad segment ever fetched
    assert (
        metric(
            "wubloader_downloader_ad_segments_skipped_total",
            channel=channel,
            quality="source",
            reason="amazon_title",
        )
        - before
        == 8
    )


async def test_bad_and_implausible_lines_lose_only_their_segment(tmp_path):
    text = fixture("twitch_live_2023.m3u8")
    text = text.replace(
        "#EXTINF:2.000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3915.ts",
        "#EXTINF:300000000000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3915.ts",
    )
    text = text.replace("2023-11-08T04:16:12.498Z", "9999-12-31T23:59:59.000Z")
    text = text.replace("2023-11-08T04:16:10.498Z", "2016-12-31T23:59:60.500Z")  # a leap second: time carried
    text = text.replace(
        '#EXT-X-DATERANGE:ID="cb58315d6a584c729820a8260efe1fec",CLASS="twitch-assignment"',
        '#EXT-X-DATERANGE:ID="stitched-ad-1",CLASS="twitch-stitched-ad",DURATION=1' + "0" * 40 + ',X-A="1"',
    )  # fmt: skip
    channel = "badlines"
    origin = await FixtureOrigin({"/live.m3u8": text}).start()
    want = {
        datetime(2023, 11, 8, 4, 16, 6, 498000): "3914",
        datetime(2023, 11, 8, 4, 16, 10, 498000): "3916",
        datetime(2023, 11, 8, 4, 16, 14, 498000): "3918",
        datetime(2023, 11, 8, 4, 16, 16, 498000): "3919",
    }
    base = await archive(
        tmp_path, origin, "/live.m3u8", channel, lambda b: set(want) <= set(stored(b, channel))
    )
    got = stored(base, channel)
    assert got == {start: hash_of(f"/v1/segment/CrkF-shortened-{n}.ts") for start, n in want.items()}
    assert errors(channel, "implausible") == 3  # the EXTINF, the year 9999 and the ad DURATION, once each
    assert errors(channel, "worker_crash", "source") == 0


async def test_relative_uris_follow_redirects(tmp_path):
    text = fixture("twitch_live_2023.m3u8").replace(
        "https://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/", "segment/"
    )
    channel = "redirected"
    origin = await FixtureOrigin(
        {"/cdn/node7/index.m3u8": text}, redirects={"/live/index.m3u8": "/cdn/node7/index.m3u8"}
    ).start()
    base = await archive(
        tmp_path, origin, "/live/index.m3u8", channel, lambda b: len(stored(b, channel)) == 6
    )
    assert set(stored(base, channel).values()) == {
        hash_of(f"/cdn/node7/segment/CrkF-shortened-{n}.ts") for n in range(3914, 3920)
    }


async def test_separate_audio_rendition_is_archived_as_its_own_quality(tmp_path):
    live = fixture("twitch_live_2023.m3u8")
    video = live.replace("/v1/segment/", "/video/")
    audio = live.replace("/v1/segment/", "/audio/")
    channel = "altaudio"
    origin = await FixtureOrigin(
        {
            "/master.m3u8": fixture("rfc8216_8.6_alternative_audio.m3u8"),
            "/hi/video-only.m3u8": video,
            "/main/english-audio.m3u8": audio,
        }
    ).start()

    def both(b) -> bool:
        return len(stored(b, channel)) == 6 and len(stored(b, channel, "source-audio")) == 6

    base = await archive(tmp_path, origin, "/master.m3u8", channel, both)
    assert set(stored(base, channel, "source-audio").values()) == {
        hash_of(f"/audio/CrkF-shortened-{n}.ts") for n in range(3914, 3920)
    }
    assert set(stored(base, channel).values()) == {
        hash_of(f"/video/CrkF-shortened-{n}.ts") for n in range(3914, 3920)
    }


def long_event_playlist(ads: int, live: int, token: int) -> str:
    """A generic EVENT playlist hours long: `ads` Amazon-titled segments then `live` real ones, long URIs."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:EVENT"]
    start = datetime(2024, 5, 1, 0, 0, 0).timestamp()
    for i in range(ads + live):
        when = datetime.utcfromtimestamp(start + 2 * i).isoformat(timespec="milliseconds")
        title = "Amazon|1" if i < ads else "live"
        lines += [
            f"#EXT-X-PROGRAM-DATE-TIME:{when}Z",
            f"#EXTINF:2.000,{title}",
            f"s/{i}.ts?token={'x' * token}",
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(240)
async def test_long_event_window_is_handled_once_per_segment(tmp_path):
    # 5,000 segments (> the 4,096 claims) of 1.2 KB URIs (> the old 4 MiB playlist cap).
    text = long_event_playlist(4990, 10, 1200)
    assert len(text) > 4 * 1024 * 1024
    channel = "longwindow"
    origin = await FixtureOrigin({"/event.m3u8": text}).start()
    polls: list[int] = []

    def done(b) -> bool:
        polls.append(origin.hits["/event.m3u8"])
        return len(stored(b, channel)) == 10 and origin.hits["/event.m3u8"] >= 6

    ads = functools.partial(
        metric,
        "wubloader_downloader_ad_segments_skipped_total",
        channel=channel,
        quality="source",
        reason="amazon_title",
    )
    before = ads()
    await archive(tmp_path, origin, "/event.m3u8", channel, done)
    assert ads() - before == 4990  # every ad counted once, however many polls saw it
    assert sum(1 for path in origin.hits if path.startswith("/s/")) == 10


async def test_the_real_process_archives_past_implausible_lines(tmp_path):
    """The original finding, against `wubloader downloader` itself: EXTINF 3e11 and a year-9999 PDT."""
    text = fixture("twitch_live_2023.m3u8")
    text = text.replace(
        "#EXTINF:2.000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3915.ts",
        "#EXTINF:300000000000,live\nhttps://video-edge-589220.syd02.abs.hls.ttvnw.net/v1/segment/CrkF-shortened-3915.ts",
    )
    text = text.replace("2023-11-08T04:16:12.498Z", "9999-12-31T23:59:59.000Z")  # fmt: skip
    origin = await FixtureOrigin({"/live.m3u8": text}).start()
    base = tmp_path / "store"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wubloader", "downloader", "realproc", "--source", origin.url("/live.m3u8"),
        "--base-dir", str(base), "--poll-interval", "0.2", "--log-level", "WARNING",
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_async(
            lambda: len(stored(base, "realproc")) == 4 or process.returncode is not None, 60, "4 segments"
        )
        polls = origin.hits["/live.m3u8"]  # more polls: the bad lines are logged once, nothing crashes
        await wait_async(
            lambda: origin.hits["/live.m3u8"] >= polls + 5 or process.returncode is not None, 60, "more polls"
        )
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await origin.close()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert len(stored(base, "realproc")) == 4  # all but the two bad segments (3915, 3917)
    log = stderr.decode()
    assert "Traceback" not in log and "OverflowError" not in log
    assert log.count("EXTINF duration of 300000000000 s is implausible") == 1
