"""One bounded pool for a restreamer's media work: slots, a queue limit, 503 + Retry-After; /cut takes a slot."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from tests.harness.processes import free_port, start_component
from wubloader.restreamer.errors import Busy
from wubloader.restreamer.media_slots import MediaSlots, OutputPace
from wubloader.restreamer.state import STATE

FMT = "%Y-%m-%dT%H:%M:%S"


async def test_slots_then_queue_then_refusal():
    slots = MediaSlots(jobs=1, queue=1, wait=30)
    release = asyncio.Event()

    async def job() -> None:
        async with slots.hold():
            await release.wait()

    first = asyncio.create_task(job())
    await asyncio.sleep(0)
    second = asyncio.create_task(job())  # waits in the queue
    await asyncio.sleep(0)
    assert (slots.running, slots.waiting) == (1, 1)
    with pytest.raises(Busy) as refused:
        async with slots.hold():
            pass
    assert refused.value.headers == {"Retry-After": "5"}
    release.set()
    await asyncio.gather(first, second)
    assert (slots.running, slots.waiting) == (0, 0)


async def test_waiting_too_long_is_busy_and_frees_the_queue_place():
    slots = MediaSlots(jobs=1, queue=4, wait=0.05)
    async with slots.hold():
        with pytest.raises(Busy, match="too many media requests"):
            async with slots.hold():
                pass
        assert slots.waiting == 0


async def test_cut_route_takes_a_slot(tmp_path, make_client, clip):
    """`/cut` ran without a slot: 20 requests started 20 encoders."""
    store_clip(tmp_path, clip, STORE_START)
    client = await make_client(tmp_path, max_media_jobs=1, max_media_queue=0)
    cut = (
        f"/cut/chan/source.ts?range={STORE_START:{FMT}},{STORE_START + timedelta(seconds=6):{FMT}}&type=rough"
    )
    async with client.app[STATE].media.hold():
        busy = await client.get(cut)
        assert busy.status == 503
        assert busy.headers["Retry-After"] == "5"
        assert "media slots" in await busy.text()
    ok = await client.get(cut)
    assert ok.status == 200
    assert len(await ok.read()) > 0


def ffmpeg_children(parent: int) -> int:
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name == "ffmpeg" and int(text[text.rindex(")") + 2 :].split()[1]) == parent:
            count += 1
    return count


def fetch(url: str) -> tuple[int, int, str | None]:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.status, len(response.read()), None
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code, 0, exc.headers.get("Retry-After")


@pytest.mark.ffmpeg
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_concurrent_full_cuts_never_run_more_encoders_than_slots(tmp_path, components, clip):
    base = tmp_path / "store"
    store_clip(base, clip, STORE_START)
    port = free_port()
    args = ["restreamer", "--base-dir", str(base), "--port", str(port), "--max-media-jobs", "2"]
    server = start_component([*args, "--max-media-queue", "1"], tmp_path / "logs", port=port)
    components.append(server)
    end = STORE_START + timedelta(seconds=12)
    url = f"{server.url}/cut/chan/source.ts?range={STORE_START:{FMT}},{end:{FMT}}&type=full"
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, ffmpeg_children(server.process.pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as clients:
            answers = list(clients.map(fetch, [url] * 8))
    finally:
        done.set()
        sampler.join()
    assert 1 <= peak <= 2, peak
    served = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] == 503]
    # Two run at once; the queued one may also be served or give up after its wait (a slow machine).
    assert len(served) + len(refused) == 8 and len(served) >= 2
    assert all(size > 100_000 for _, size, _ in served)
    assert all(retry == "5" for _, _, retry in refused)


async def test_output_pace_shares_one_budget_in_turn():
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pace = OutputPace(1_000_000, clock=lambda: now[0], sleep=sleep)
    await pace.take(1_000_000)  # the first second's budget: no wait
    await pace.take(500_000)  # waits for the first megabyte's second to pass
    await pace.take(500_000)
    assert slept == [1.0, 0.5]
    now[0] = 10.0  # idle for a while: no burst credit is saved up beyond "now"
    await pace.take(2_000_000)
    await pace.take(1)
    assert slept == [1.0, 0.5, 2.0]
    unlimited = OutputPace(None, clock=lambda: now[0], sleep=sleep)
    await unlimited.take(10**12)
    assert slept == [1.0, 0.5, 2.0]
