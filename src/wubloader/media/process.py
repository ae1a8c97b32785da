"""Run ffmpeg/ffprobe as asyncio subprocesses that are always killed and reaped, keeping a stderr tail."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wubloader.media.errors import FfmpegFailed, FfmpegTimeout

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Sequence

logger = logging.getLogger(__name__)

STDERR_TAIL_LINES = 40

# ffmpeg must not outlive us: a node killed with SIGKILL (or by the OOM killer) cannot clean up, and
# an encoder writing files (the demo stream) would otherwise run forever. util-linux's setpriv sets
# the parent-death signal between fork and exec; preexec_fn could deadlock in a threaded process.
_SETPRIV = shutil.which("setpriv")
DIE_WITH_PARENT: tuple[str, ...] = (_SETPRIV, "--pdeathsig", "KILL", "--") if _SETPRIV else ()
# Media work (cuts, waveforms, frames) must never take CPU from archiving or serving peers in the
# same node: ffmpeg runs niced, so under load the kernel gives the node's own process priority.
_NICE = shutil.which("nice")
BACKGROUND_PRIORITY: tuple[str, ...] = (_NICE, "-n", "10") if _NICE else ()


@dataclass(slots=True)
class MediaProcess:
    """A running ffmpeg; `stdin`/`stdout` are the pipes asked for, stderr is drained into `tail`."""

    process: asyncio.subprocess.Process
    command: str
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_TAIL_LINES))
    _stderr_task: asyncio.Task[None] | None = None

    @property
    def stdin(self) -> asyncio.StreamWriter:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> asyncio.StreamReader:
        assert self.process.stdout is not None
        return self.process.stdout

    def stderr_tail(self) -> str:
        return "\n".join(self.tail)

    async def wait_ok(self) -> None:
        """Wait for exit; raise FfmpegFailed with the stderr tail on a non-zero exit."""
        returncode = await self.process.wait()
        if self._stderr_task is not None:
            await self._stderr_task
        if returncode != 0:
            raise FfmpegFailed(self.command, returncode, self.stderr_tail())


async def _drain_stderr(stream: asyncio.StreamReader, tail: deque[str]) -> None:
    async for line in stream:
        tail.append(line.decode(errors="replace").rstrip())


@contextlib.asynccontextmanager
async def start_media_process(
    args: Sequence[str], *, stdin: bool = False, stdout: bool = True
) -> AsyncIterator[MediaProcess]:
    """Start `args` (args[0] is ffmpeg/ffprobe); on any exit from the block, kill and reap it.

    The caller awaits `wait_ok()` inside the block for a normal finish; leaving early (an error, a
    cancelled consumer) kills the process, so no ffmpeg outlives its request.
    """
    process = await asyncio.create_subprocess_exec(
        *DIE_WITH_PARENT,
        *BACKGROUND_PRIORITY,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if stdout else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    media = MediaProcess(process=process, command=args[0])
    assert process.stderr is not None
    media._stderr_task = asyncio.create_task(_drain_stderr(process.stderr, media.tail))
    try:
        yield media
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())
        if not media._stderr_task.done():
            media._stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await media._stderr_task
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()


async def run_media_command(
    args: Sequence[str], *, time_limit: float, input: bytes | AsyncIterable[bytes] | None = None
) -> bytes:
    """Run to completion and return stdout; FfmpegTimeout past `time_limit`, FfmpegFailed on error.

    `input` goes to stdin, as one block or streamed chunk by chunk (large inputs never sit in memory).
    """
    async with start_media_process(args, stdin=input is not None) as media:
        try:
            async with asyncio.timeout(time_limit):
                out, _ = await asyncio.gather(media.stdout.read(), _feed(media, input))
                await media.wait_ok()
        except TimeoutError:
            raise FfmpegTimeout(f"{args[0]} ran longer than {time_limit}s") from None
        return out


async def _feed(media: MediaProcess, data: bytes | AsyncIterable[bytes] | None) -> None:
    if data is None:
        return
    chunks = _single(data) if isinstance(data, bytes) else data
    try:
        async for chunk in chunks:
            media.stdin.write(chunk)
            await media.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        logger.debug("%s closed its input early", media.command)
    finally:
        if isinstance(chunks, AsyncGenerator):
            await chunks.aclose()  # ffmpeg may stop reading early: close the source's files now
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            media.stdin.close()


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data
