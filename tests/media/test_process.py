"""ffmpeg runs are killed and reaped on every exit path and report their stderr tail."""

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from wubloader.media.errors import FfmpegFailed, FfmpegTimeout
from wubloader.media.process import (
    FEED_CHUNK,
    cancel_and_wait,
    die_with_parent,
    read_files,
    run_media_command,
    start_media_process,
)

pytestmark = pytest.mark.ffmpeg


async def test_output_is_returned():
    out = await run_media_command(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=0.1:sample_rate=48000",
            "-f",
            "s16le",
            "-",
        ],
        time_limit=30,
    )
    assert len(out) == 4800 * 2  # 0.1 s of mono s16 at 48 kHz


async def test_failure_carries_stderr_tail():
    with pytest.raises(FfmpegFailed) as info:
        await run_media_command(
            ["ffmpeg", "-v", "error", "-i", "/nonexistent.ts", "-f", "null", "-"], time_limit=30
        )
    assert "nonexistent" in info.value.stderr_tail
    assert info.value.returncode != 0


async def test_timeout_kills_process():
    with pytest.raises(FfmpegTimeout):
        await run_media_command(
            ["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "sine", "-f", "null", "-"], time_limit=0.5
        )


async def test_leaving_block_early_kills_and_reaps():
    async with start_media_process(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine", "-f", "s16le", "-"]
    ) as media:
        await media.stdout.readexactly(1000)
        process = media.process
    assert process.returncode is not None


async def test_cancelled_consumer_kills_process():
    started = asyncio.Event()
    holder = {}

    async def consume():
        async with start_media_process(
            ["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "sine", "-f", "s16le", "-"]
        ) as media:
            holder["process"] = media.process
            started.set()
            while True:
                await media.stdout.read(4096)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert holder["process"].returncode is not None


ORPHAN_PARENT = """
import asyncio, sys
from wubloader.media.process import start_media_process

async def main():
    args = ["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=5", "-f", "null", "-"]
    async with start_media_process(args, stdout=False) as media:
        print(media.process.pid, flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


def test_ffmpeg_dies_with_a_killed_parent():
    """A node killed with SIGKILL cannot clean up: its ffmpeg children must still not run on."""
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN_PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert running(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=60)
    deadline = time.monotonic() + 60  # bounds a hang only: the kernel's kill may be reaped late under load
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if running(child):
        os.kill(child, signal.SIGKILL)
        raise AssertionError("ffmpeg outlived its SIGKILLed parent")


def test_command_refuses_to_start_when_its_parent_already_died(tmp_path):
    """A parent killed before the death signal is set cannot signal: the command must not start at all."""
    marker = tmp_path / "ran"
    not_our_pid = 1
    child = subprocess.run([*die_with_parent(not_our_pid), "touch", str(marker)], timeout=60)
    assert child.returncode != 0
    assert not marker.exists()
    subprocess.run([*die_with_parent(os.getpid()), "touch", str(marker)], timeout=60, check=True)
    assert marker.exists()


def running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_waiting_for_cancelled_children_never_swallows_our_own_cancellation():
    release = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await release.wait()  # clean-up that takes a while
            raise

    async def parent(children: list[asyncio.Task[None]]) -> str:
        await cancel_and_wait(children)
        return "finished as if nothing happened"

    child = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(parent([child]))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert child.cancelling() and not child.done()
    release.set()
    await asyncio.wait([child])
    assert child.cancelled()


async def test_children_errors_are_collected_not_raised():
    async def failing() -> None:
        raise RuntimeError("boom")

    child = asyncio.create_task(failing())
    await asyncio.sleep(0)
    await cancel_and_wait([child])
    assert isinstance(child.exception(), RuntimeError)


async def test_media_runs_at_background_priority():
    """Cuts, waveforms and frames must not take CPU from archiving or peers in the same node."""
    args = ["ffmpeg", "-v", "error", "-f", "s16le", "-i", "-", "-f", "null", "-"]
    async with start_media_process(args, stdin=True) as media:
        proc = f"/proc/{media.process.pid}"
        deadline = time.monotonic() + 60  # bounds a hang only: exec crawls under load
        while open(f"{proc}/comm").read().strip() != "ffmpeg" and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # setpriv and nice exec into ffmpeg in the same process
        nice = int(open(f"{proc}/stat").read().rsplit(")", 1)[1].split()[16])
        ours = int(open(f"/proc/{os.getpid()}/stat").read().rsplit(")", 1)[1].split()[16])
        assert nice == min(ours + 10, 19)
        media.stdin.close()
        await media.wait_ok()


async def test_read_files_gives_the_files_back_to_back_in_chunks(tmp_path):
    big, small, empty = tmp_path / "big", tmp_path / "small", tmp_path / "empty"
    big.write_bytes(os.urandom(2 * FEED_CHUNK + 12345))
    small.write_bytes(b"tail")
    empty.write_bytes(b"")
    chunks = [chunk async for chunk in read_files([str(big), str(empty), str(small)])]
    assert b"".join(chunks) == big.read_bytes() + b"tail"
    assert all(isinstance(c, bytes) and 0 < len(c) <= FEED_CHUNK for c in chunks) and len(chunks) == 4


async def test_run_media_command_hands_stdout_to_consume_in_pieces():
    pieces: list[bytes] = []
    script = "import sys; sys.stdout.buffer.write(bytes(range(256)) * 4096)"
    out = await run_media_command([sys.executable, "-c", script], time_limit=60, consume=pieces.append)
    assert out == b"" and b"".join(pieces) == bytes(range(256)) * 4096 and len(pieces) > 1
