"""The twitch provider against a local fake: ads skipped and counted, URL expiry handover, fMP4 with init."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from tests.downloader.support import stored_segments, temp_files
from tests.downloader.test_live_archive import wait_async
from tests.fakes_twitch import FakeTwitch, Rendition
from wubloader.downloader.config import DownloaderConfig, TwitchConfig
from wubloader.downloader.manager import Downloader
from wubloader.downloader.twitch import TwitchProvider
from wubloader.runtime.http_client import create_session
from wubloader.store import SegmentType, format_duration, hash_bytes

pytestmark = pytest.mark.ffmpeg

AMAZON = frozenset({5, 6})
DATERANGE = frozenset({12, 13, 14})


def source_rendition(clip) -> Rendition:
    """The clip as twitch's source rendition (`chunked` group, `(source)` in its name)."""
    return Rendition(name="180p25 (source)", group="chunked", bodies=clip.segments, durations=clip.durations)


def twitch_config(
    fake: FakeTwitch, base: Path, *, usher_api: str = "v2", qualities=("source",), **timing: float
) -> DownloaderConfig:
    """A downloader of `fake`'s channel through its token and usher endpoints."""
    return DownloaderConfig(
        channel=fake.channel,
        source="twitch",
        base_dir=base,
        qualities=qualities,
        twitch=TwitchConfig(api_url=f"{fake.url}/gql", usher_url=fake.url, usher_api=usher_api),
        **timing,
    )


def fmp4_parts(directory: Path) -> tuple[bytes, list[bytes], list[float]]:
    text = (directory / "index.m3u8").read_text()
    init = (directory / re.search(r'#EXT-X-MAP:URI="([^"]+)"', text).group(1)).read_bytes()
    names = [line for line in text.splitlines() if line and not line.startswith("#")]
    durations = [float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", text)]
    return init, [(directory / n).read_bytes() for n in names], durations


def video_packets(path: str) -> tuple[str, int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=codec_name,nb_read_packets", "-of", "csv=p=0", path],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.strip()  # fmt: skip
    codec, packets = out.split(",")
    return codec, int(packets)


def ads_skipped(channel: str, quality: str) -> float:
    total = 0.0
    for reason in ("amazon_title", "daterange", "scte35"):
        labels = {"channel": channel, "quality": quality, "reason": reason}
        total += REGISTRY.get_sample_value("wubloader_downloader_ad_segments_skipped_total", labels) or 0.0
    return total


def expected(fake: FakeTwitch, rendition: Rendition) -> dict:
    """{start: (duration text, hash)} of every non-ad segment the fake publishes."""
    result = {}
    for i in range(fake.total):
        if i in fake.amazon_ads | fake.daterange_ads:
            continue
        body = (rendition.init or b"") + rendition.bodies[i % len(rendition.bodies)]
        duration = format_duration(float(f"{rendition.durations[i % len(rendition.durations)]:.3f}"))
        result[fake.start_of(i, rendition)] = (duration, hash_bytes(body))
    return result


async def test_twitch_ads_expiry_and_fmp4(tmp_path, clip, clip_fmp4):
    init, fmp4_bodies, fmp4_durations = fmp4_parts(clip_fmp4.directory)
    source = source_rendition(clip)
    fmp4 = Rendition(
        name="180p", group="180p25", bodies=fmp4_bodies, durations=fmp4_durations, init=init, ext="m4s"
    )
    fake = FakeTwitch(
        renditions=[source, fmp4],
        interval=0.5,
        total=40,
        window=40,  # every segment stays listed: a stalled machine must not turn into a gap
        url_lifetime=6.0,
        amazon_ads=AMAZON,
        daterange_ads=DATERANGE,
    )
    base = tmp_path / "store"
    with fake:
        config = DownloaderConfig(
            channel=fake.channel,
            source="twitch",
            base_dir=base,
            qualities=("source", "180p"),
            twitch=TwitchConfig(api_url=f"{fake.url}/gql", usher_url=fake.url, url_max_age=4.0),
            poll_interval=0.25,
            retry_initial=0.1,
            retry_max=1.0,
        )
        ads_before = {q: ads_skipped(fake.channel, q) for q in ("source", "180p")}  # the registry is global
        stop = asyncio.Event()
        task = asyncio.create_task(Downloader(config).run(stop))
        want = {"source": expected(fake, source), "180p": expected(fake, fmp4)}

        def done() -> bool:
            return all(
                set(want[q]) <= {s.start for s in stored_segments(base, fake.channel, q)} for q in want
            )

        await wait_async(done, 60, "every non-ad segment of both renditions")
        stop.set()
        await asyncio.wait_for(task, 30)
    assert not temp_files(base)
    for quality, segments in want.items():
        stored = stored_segments(base, fake.channel, quality)
        assert [s.type for s in stored] == [SegmentType.FULL] * len(segments), quality
        got = {s.start: (s.path.split("/")[-1].split("-")[1], s.hash) for s in stored}
        assert got == segments, quality  # no gap across URL handovers, no ad, exact bytes
        assert ads_skipped(fake.channel, quality) - ads_before[quality] == len(AMAZON | DATERANGE)
    # URLs really expired and were replaced mid-run; ads, prefetch URLs and expired URLs never stored.
    assert fake.counts["usher"] >= 4 and fake.counts["gql"] == fake.counts["usher"]
    assert fake.counts["ad_fetched"] == 0 and fake.counts["prefetch"] == 0
    assert fake.counts["init"] == 1 or fake.counts["init"] <= fake.counts["usher"]
    for seg in stored_segments(base, fake.channel, "180p"):  # each file alone is playable: init + fragment
        codec, packets = video_packets(seg.path)
        assert codec == "h264" and packets == round(seg.duration.total_seconds() * 25), seg.path


async def test_twitch_offline_then_live(tmp_path, clip):
    source = source_rendition(clip)
    fake = FakeTwitch(renditions=[source], interval=0.5, total=12, window=8, online=False)
    base = tmp_path / "store"
    with fake:
        config = twitch_config(fake, base, poll_interval=0.25, master_interval=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(Downloader(config).run(stop))
        await wait_async(lambda: fake.counts["usher"] >= 3, 10, "offline checks")
        assert not stored_segments(base, fake.channel)
        fake.online = True
        want = expected(fake, source)
        await wait_async(
            lambda: len(stored_segments(base, fake.channel)) >= 3, 20, "archive after going live"
        )
        stop.set()
        await asyncio.wait_for(task, 30)
    stored = stored_segments(base, fake.channel)
    assert all(want[s.start][1] == s.hash for s in stored)


async def test_twitch_api_change_is_an_error_not_offline(tmp_path, clip):
    source = source_rendition(clip)
    fake = FakeTwitch(renditions=[source], channel="brokenapi", gql_broken=True)
    labels = {"channel": fake.channel, "quality": "all"}
    errors = "wubloader_downloader_errors_total"

    def count(kind: str) -> float:
        return REGISTRY.get_sample_value(errors, {**labels, "kind": kind}) or 0.0

    before = {kind: count(kind) for kind in ("provider", "offline")}  # the registry is process-global
    with fake:
        config = twitch_config(fake, tmp_path, master_interval=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(Downloader(config).run(stop))
        await wait_async(lambda: fake.counts["gql"] >= 2, 10, "token requests")
        stop.set()
        await asyncio.wait_for(task, 60)
    assert count("provider") - before["provider"] >= 2
    assert count("offline") == before["offline"]
    assert fake.counts["usher"] == 0


async def test_twitch_timestamp_skew_stores_later_segments_as_suspect(tmp_path, clip):
    source = source_rendition(clip)
    # Every segment stays listed (window = total): a stalled machine must not skip the first skewed one.
    fake = FakeTwitch(renditions=[source], channel="skewed", interval=0.3, total=16, window=16, skew_from=8)
    base = tmp_path / "store"
    skews = "wubloader_downloader_timestamp_skews_total"
    labels = {"channel": "skewed", "quality": "source"}
    skews_before = REGISTRY.get_sample_value(skews, labels) or 0.0  # the registry is process-global
    with fake:
        config = twitch_config(fake, base, poll_interval=0.2, master_interval=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(Downloader(config).run(stop))
        await wait_async(lambda: len(stored_segments(base, fake.channel)) >= 12, 30, "segments stored")
        stop.set()
        await asyncio.wait_for(task, 30)
    skew_start = fake.start_of(8, source)
    stored = stored_segments(base, fake.channel)
    before = [s for s in stored if s.start < skew_start]
    after = [s for s in stored if s.start >= skew_start]
    assert before and all(s.type is SegmentType.FULL for s in before)
    assert any(s.start == skew_start and s.type is SegmentType.SUSPECT for s in after)
    assert (REGISTRY.get_sample_value(skews, labels) or 0.0) - skews_before >= 1


@pytest.mark.parametrize("usher_api", ["v2", "v1"])
async def test_enhanced_broadcast_hevc_source_in_both_usher_shapes(tmp_path, clip, clip_hevc, usher_api):
    """Source = the rendition twitch marks (HEVC here), never the H.264 480p transcode; every name works."""
    hevc = Rendition(
        name="1440p60", group="chunked", bodies=clip_hevc.segments, durations=clip_hevc.durations,
        codecs="hvc1.2.4.L150.B0,mp4a.40.2", bandwidth=9_500_000,
    )  # fmt: skip
    h264 = Rendition(name="480p30", group="480p30", bodies=clip.segments, durations=clip.durations)
    audio = Rendition(
        name="audio_only", group="audio_only", bodies=clip.segments[::-1], durations=clip.durations,
        codecs="mp4a.40.2", resolution=None, bandwidth=160_000,
    )  # fmt: skip
    fake = FakeTwitch(renditions=[hevc, h264, audio], channel=f"enhanced{usher_api}", interval=0.3, total=6)
    base = tmp_path / "store"
    qualities = ("source", "480p30", "audio_only")
    with fake:
        config = twitch_config(fake, base, usher_api=usher_api, qualities=qualities, poll_interval=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(Downloader(config).run(stop))
        want = {
            "source": expected(fake, hevc),
            "480p30": expected(fake, h264),
            "audio_only": expected(fake, audio),
        }

        def done() -> bool:
            return all(len(stored_segments(base, fake.channel, q)) >= len(want[q]) for q in qualities)

        await wait_async(done, 40, "all three qualities")
        stop.set()
        await asyncio.wait_for(task, 30)
    for quality in qualities:
        got = {s.start: s.hash for s in stored_segments(base, fake.channel, quality)}
        assert got == {start: h for start, (_, h) in want[quality].items()}, quality
    source = stored_segments(base, fake.channel, "source")[0]
    codec = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
         "-of", "default=nw=1:nk=1", source.path],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.strip()  # fmt: skip
    assert set(codec.split()) == {"hevc"}
    assert (
        fake.counts[f"usher_{usher_api}"] >= 1
        and sum(fake.counts[f"usher_{v}"] for v in ("v1", "v2")) == fake.counts[f"usher_{usher_api}"]
    )


async def test_token_answer_split_into_packets_is_read_whole(clip):
    """The fake sends the GQL answer in three packets with pauses; one read() would see only the first."""
    fake = FakeTwitch(renditions=[source_rendition(clip)], channel="packets")
    with fake:
        provider = TwitchProvider(
            fake.channel, TwitchConfig(api_url=f"{fake.url}/gql", usher_url=fake.url), timeout=5
        )
        async with create_session() as session:
            urls = await provider.media_urls(session, ("source",))
    assert urls["source"].startswith(f"{fake.url}/v1/playlist/chunked/")
    assert fake.counts["gql"] == 1
