"""An interactive Python console inside the running process, for debugging live state; loopback/0600 only."""

from __future__ import annotations

import asyncio
import builtins
import code
import contextlib
import io
import logging
import reprlib
import socket
import stat
import sys
from typing import TYPE_CHECKING

from wubloader.runtime.config import is_loopback_host
from wubloader.runtime.errors import ListenError, RuntimeConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from types import CodeType

    from wubloader.runtime.config import BackdoorConfig

logger = logging.getLogger(__name__)

PS1 = ">>> "
PS2 = "... "
MAX_LINE_BYTES = 64 * 1024


class _Console(code.InteractiveConsole):
    """One client's console: its own namespace, all output (prints, results, tracebacks) captured."""

    def __init__(self, namespace: dict[str, object]) -> None:
        super().__init__(locals=namespace, filename="<backdoor>")
        self.namespace = namespace
        self.output = io.StringIO()
        self.wants_exit = False

    def write(self, data: str) -> None:
        """Where InteractiveConsole sends tracebacks and syntax errors."""
        self.output.write(data)

    def _display(self, value: object) -> None:
        if value is not None:
            self.output.write(repr(value) + "\n")
            self.namespace["_"] = value

    def runcode(self, code: CodeType) -> None:
        """Execute one statement; nothing it raises may escape into the event loop."""
        saved_hook = sys.displayhook
        sys.displayhook = self._display
        try:
            exec(code, self.namespace)
        except SystemExit:  # exit()/quit() ends this session, not the process
            self.wants_exit = True
        except BaseException:
            self.showtraceback()
        finally:
            sys.displayhook = saved_hook

    def feed(self, line: str) -> str:
        """Push one input line; return its output and the next prompt (no prompt after exit())."""
        # Redirecting the process-wide streams is safe here: exec runs synchronously in the loop
        # thread, so no other coroutine can print while they point at this client.
        with contextlib.redirect_stdout(self.output), contextlib.redirect_stderr(self.output):
            more = self.push(line)
        text = self.output.getvalue()
        self.output.seek(0)
        self.output.truncate()
        if self.wants_exit:
            return text
        return text + (PS2 if more else PS1)


def _remove_stale_socket(path: Path) -> None:
    """Delete a socket file left by a dead process; refuse to touch anything else."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ListenError(f"backdoor path {path} exists and is not a socket; not replacing it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:
            path.unlink()
            return
    raise ListenError(f"backdoor path {path} is in use by a running process")


def _bind_unix_socket(path: Path) -> socket.socket:
    """Bind a Unix socket readable and writable by the owner only.

    The mode is set between bind() and listen(): until listen() nobody can connect, so there is no
    moment where another user could reach the console.
    """
    _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        path.chmod(0o600)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot open backdoor socket {path}: {exc.strerror or exc}") from exc
    return sock


class BackdoorServer:
    """Accepts console sessions; each gets a shallow copy of `namespace` (same objects, own variables).

    Code typed into a session runs synchronously in the event loop thread: a slow statement stalls
    the whole process, and top-level `await` is not supported.
    """

    def __init__(self, namespace: Mapping[str, object]) -> None:
        self._namespace = dict(namespace)
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[object]] = set()
        self.address = ""
        self.port: int | None = None
        self.unix_path: Path | None = None

    async def listen_tcp(self, host: str, port: int) -> None:
        """Listen on a loopback host (port 0 = any free port). Raises RuntimeConfigError otherwise."""
        if not is_loopback_host(host):
            raise RuntimeConfigError(f"backdoor must listen on a loopback address, not {host!r}")
        host = "127.0.0.1" if host == "localhost" else host
        try:
            self._server = await asyncio.start_server(self._handle, host, port, limit=MAX_LINE_BYTES)
        except OSError as exc:
            raise ListenError(f"cannot open backdoor on {host}:{port}: {exc.strerror or exc}") from exc
        self.port = self._server.sockets[0].getsockname()[1]
        self.address = f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"
        logger.warning("backdoor console listening on %s", self.address)

    async def listen_unix(self, path: Path) -> None:
        """Listen on a Unix socket at `path` with mode 0600, replacing a stale socket file."""
        sock = _bind_unix_socket(path)
        self._server = await asyncio.start_unix_server(self._handle, sock=sock, limit=MAX_LINE_BYTES)
        self.unix_path = path
        self.address = str(path)
        logger.warning("backdoor console listening on %s", self.address)

    async def close(self) -> None:
        """Stop listening, end open sessions, remove the socket file."""
        if self._server is not None:
            self._server.close()
        sessions = list(self._sessions)
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self.unix_path is not None:
            self.unix_path.unlink(missing_ok=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        peer = writer.get_extra_info("peername") or self.address
        logger.warning("backdoor session opened from %s", peer)
        try:
            await self._converse(reader, writer)
        except (ConnectionError, ValueError) as exc:  # ValueError: a line over MAX_LINE_BYTES
            logger.info("backdoor session from %s ended: %s", peer, reprlib.repr(exc))
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            logger.warning("backdoor session from %s closed", peer)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        namespace: dict[str, object] = {"__name__": "__backdoor__", "__builtins__": builtins}
        namespace.update(self._namespace)
        console = _Console(namespace)
        names = ", ".join(sorted(self._namespace)) or "(none)"
        writer.write(f"wubloader backdoor, Python {sys.version.split()[0]}; names: {names}\n{PS1}".encode())
        while not console.wants_exit:
            await writer.drain()
            line = await reader.readline()
            if not line:
                return
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            writer.write(console.feed(text).encode("utf-8", errors="replace"))
        await writer.drain()


async def start_backdoor(config: BackdoorConfig, namespace: Mapping[str, object]) -> BackdoorServer | None:
    """Open the backdoor `config` asks for, or return None when it is off.

    `namespace` holds the process's main objects (config, store, app…) to inspect. Raises
    RuntimeConfigError for a non-loopback host and ListenError if the address cannot be bound.
    Call `close()` on the result when stopping.
    """
    if config.unix_path is not None:
        server = BackdoorServer(namespace)
        await server.listen_unix(config.unix_path)
        return server
    if config.tcp is not None:
        server = BackdoorServer(namespace)
        await server.listen_tcp(config.tcp.host, config.tcp.port)
        return server
    return None
