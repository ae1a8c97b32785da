"""Run ffmpeg/ffprobe as asyncio subprocesses that are always killed and reaped, keeping a stderr tail."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wubloader.media.errors import FfmpegFailed, FfmpegTimeout

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence

logger = logging.getLogger(__name__)

STDERR_TAIL_LINES = 40
FEED_CHUNK = 1 << 20
OUTPUT_CHUNK = 1 << 16  # what `consume` is handed at most at once

# ffmpeg must not outlive us: a node killed with SIGKILL (or by the OOM killer) cannot clean up, and
# an encoder writing files (the demo stream) would otherwise run forever. util-linux's setpriv sets
# the parent-death signal between fork and exec; preexec_fn could deadlock in a threaded process.
# A parent that dies before setpriv gets that far sends no signal, so a shell then checks that its
# parent is still the one that started it and runs the command only if so.
_SETPRIV = shutil.which("setpriv")
_PARENT_CHECK = '[ "$PPID" = "$0" ] && exec "$@"'


def die_with_parent(parent_pid: int) -> tuple[str, ...]:
    """The command prefix that makes what follows die with `parent_pid`, or refuse to start without it."""
    if _SETPRIV is None:
        return ()
    return (_SETPRIV, "--pdeathsig", "KILL", "--", "/bin/sh", "-c", _PARENT_CHECK, str(parent_pid))


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
    args: Sequence[str], *, stdin: bool = False, stdout: bool = True, pipes: InputPipes | None = None
) -> AsyncIterator[MediaProcess]:
    """Start `args` (args[0] is ffmpeg/ffprobe); on any exit from the block, kill and reap it.

    The caller awaits `wait_ok()` inside the block for a normal finish; leaving early (an error, a
    cancelled consumer) kills the process, so no ffmpeg outlives its request. `pipes` (named in
    `args`) are handed to the child; the caller feeds them inside the block.
    """
    process = await asyncio.create_subprocess_exec(
        *die_with_parent(os.getpid()),
        *BACKGROUND_PRIORITY,
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if stdout else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        pass_fds=pipes.child_fds if pipes is not None else (),
    )
    if pipes is not None:
        pipes.close_child_ends()
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
        await cancel_and_wait([media._stderr_task])
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel child `tasks` and wait until they end, ignoring how they end.

    Unlike `suppress(CancelledError, Exception)` around `await task`, this never swallows the
    *calling* task's own cancellation: that still propagates (the children are cancelled already).
    """
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" warning


async def run_media_command(
    args: Sequence[str],
    *,
    time_limit: float,
    input: bytes | AsyncIterable[bytes] | None = None,
    consume: Callable[[bytes], None] | None = None,
) -> bytes:
    """Run to completion and return stdout; FfmpegTimeout past `time_limit`, FfmpegFailed on error.

    `input` goes to stdin, as one block or streamed chunk by chunk (large inputs never sit in memory).
    With `consume`, stdout is handed to it chunk by chunk as it arrives instead (and b"" returned),
    so a large output never sits in memory either.
    """
    async with start_media_process(args, stdin=input is not None) as media:
        try:
            async with asyncio.timeout(time_limit):
                feed = _feed(media.stdin, args[0], input) if input is not None else asyncio.sleep(0)
                read = media.stdout.read() if consume is None else _consume(media.stdout, consume)
                out, _ = await asyncio.gather(read, feed)
                await media.wait_ok()
        except TimeoutError:
            raise FfmpegTimeout(f"{args[0]} ran longer than {time_limit}s") from None
        return out


async def _consume(reader: asyncio.StreamReader, consume: Callable[[bytes], None]) -> bytes:
    while chunk := await reader.read(OUTPUT_CHUNK):
        consume(chunk)
    return b""


async def _feed(writer: asyncio.StreamWriter, command: str, data: bytes | AsyncIterable[bytes]) -> None:
    """Write `data` into `writer`, then close it; the reader leaving early is not an error."""
    chunks = _single(data) if isinstance(data, bytes) else data
    try:
        async for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
    except (BrokenPipeError, ConnectionResetError):
        logger.debug("%s closed its input early", command)
    finally:
        if isinstance(chunks, AsyncGenerator):
            await chunks.aclose()  # ffmpeg may stop reading early: close the source's files now
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            writer.close()


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def read_files(paths: Sequence[str]) -> AsyncIterator[bytes]:
    """The files' bytes back to back, in chunks read off the event loop.

    Opened with O_NOFOLLOW: a symlink (ELOOP, an OSError) is never followed out of the store.
    """
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb", buffering=0) as file:
            # The thread only fills this buffer; the chunk is copied out on the event loop. Reading
            # new 1 MiB objects in pool threads left glibc's per-thread heaps holding megabytes.
            buffer = memoryview(bytearray(FEED_CHUNK))
            while count := await asyncio.to_thread(file.readinto, buffer):
                yield bytes(buffer[:count])


class InputPipes:
    """Extra input pipes for one ffmpeg run, named in its arguments by `url(i)` and fed after start.

    Many files cannot go into one argument (Linux refuses a single argument of 128 KiB or more: a
    `concat:` list of ~40 minutes of store paths), so a long input is fed as bytes through a pipe.
    Owns the descriptors: `close()` (or leaving the `with` block) closes whatever is still open.
    """

    def __init__(self, count: int) -> None:
        self._child: list[int] = []
        self._parent: list[int] = []
        try:
            for _ in range(count):
                read_end, write_end = os.pipe()
                self._child.append(read_end)
                self._parent.append(write_end)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> InputPipes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, index: int) -> str:
        return f"pipe:{self._child[index]}"

    @property
    def child_fds(self) -> tuple[int, ...]:
        return tuple(self._child)

    def close_child_ends(self) -> None:
        """After the child started: our copies of its ends must go, or it never sees end-of-file."""
        for fd in self._child:
            os.close(fd)
        self._child = []

    def close(self) -> None:
        self.close_child_ends()
        for fd in self._parent:
            os.close(fd)
        self._parent = []

    async def feed(self, command: str, sources: Sequence[AsyncIterable[bytes]]) -> None:
        """Write source i into pipe i, all at once (ffmpeg reads its inputs in an order of its own).

        A source failing (a file vanished) raises its error here, after ffmpeg saw its pipe end.
        """
        loop = asyncio.get_running_loop()
        writers = []
        while self._parent:
            pipe = os.fdopen(self._parent.pop(0), "wb", buffering=0)
            protocol = asyncio.streams.FlowControlMixin()
            transport, _ = await loop.connect_write_pipe(lambda p=protocol: p, pipe)  # type: ignore[misc]
            writers.append(asyncio.StreamWriter(transport, protocol, None, loop))
        try:
            async with asyncio.TaskGroup() as group:
                for writer, source in zip(writers, sources, strict=True):
                    group.create_task(_feed(writer, command, source))
        except ExceptionGroup as group:
            raise group.exceptions[0]  # noqa: B904 - the first source's own error, traceback kept
        finally:
            for writer in writers:
                writer.close()
