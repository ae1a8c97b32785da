"""An interactive Python console inside the running process, for debugging live state.

Normally on a Unix socket with mode 0600 (only the service user can connect). On request, on a
loopback TCP port instead, where every session must first send the configured secret as its first
line: any local process, or a web page in a local browser, could otherwise run code as the service
user. A session whose first line looks like an HTTP request is closed before anything else is read,
so an HTTP POST's body is never executed.
"""

from __future__ import annotations

import asyncio
import builtins
import code
import contextlib
import hmac
import io
import logging
import re
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
# How long a TCP client may take to send its secret.
SECRET_TIMEOUT = 10.0
# An HTTP/1.x request line (`POST / HTTP/1.1`), or an HTTP/2 connection preface.
_HTTP_REQUEST = re.compile(rb"^(?:[A-Z][A-Z-]{1,15} \S+ HTTP/\d|PRI \* HTTP/2)")


def looks_like_http(line: bytes) -> bool:
    """Whether a session's first line is an HTTP request line (a browser or an HTTP client)."""
    return _HTTP_REQUEST.match(line.lstrip()) is not None


class SessionRefused(Exception):
    """A backdoor session is closed before its console starts (HTTP, wrong or missing secret)."""


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
        self._secret: bytes | None = None
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[object]] = set()
        self.address = ""
        self.port: int | None = None
        self.unix_path: Path | None = None

    async def listen_tcp(self, host: str, port: int, secret: str) -> None:
        """Listen on a loopback host (port 0 = any free port); sessions must send `secret` first.

        Raises RuntimeConfigError for a non-loopback host or an empty secret.
        """
        if not is_loopback_host(host):
            raise RuntimeConfigError(f"backdoor must listen on a loopback address, not {host!r}")
        if not secret:
            raise RuntimeConfigError("a TCP backdoor needs a secret")
        self._secret = secret.encode("utf-8")
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
            vetted = await self._admit(reader)
            await self._converse(reader, writer, vetted)
        except SessionRefused as exc:
            logger.warning("backdoor session from %s refused: %s", peer, exc)
        except (ConnectionError, ValueError) as exc:  # ValueError: a line over MAX_LINE_BYTES
            logger.info("backdoor session from %s ended: %s", peer, reprlib.repr(exc))
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            logger.warning("backdoor session from %s closed", peer)

    async def _admit(self, reader: asyncio.StreamReader) -> bool:
        """Check the session's opening; True if it was vetted here (the console need not check it).

        TCP: the first line must be the secret (read within SECRET_TIMEOUT, before any banner).
        Unix socket: the first line is code, unless it looks like HTTP.
        """
        if self._secret is None:
            return False
        try:
            async with asyncio.timeout(SECRET_TIMEOUT):
                line = await reader.readline()
        except TimeoutError:
            raise SessionRefused("no secret sent") from None
        if looks_like_http(line):
            raise SessionRefused("an HTTP request")
        if not hmac.compare_digest(line.rstrip(b"\r\n"), self._secret):
            raise SessionRefused("wrong secret")
        return True

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, vetted: bool
    ) -> None:
        """Banner, then one console line at a time; an unauthenticated first line is checked too."""
        namespace: dict[str, object] = {"__name__": "__backdoor__", "__builtins__": builtins}
        namespace.update(self._namespace)
        console = _Console(namespace)
        names = ", ".join(sorted(self._namespace)) or "(none)"
        writer.write(f"wubloader backdoor, Python {sys.version.split()[0]}; names: {names}\n{PS1}".encode())
        first = not vetted
        while not console.wants_exit:
            await writer.drain()
            line = await reader.readline()
            if not line:
                return
            if first and looks_like_http(line):
                raise SessionRefused("an HTTP request")
            first = False
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            writer.write(console.feed(text).encode("utf-8", errors="replace"))
        await writer.drain()


async def start_backdoor(config: BackdoorConfig, namespace: Mapping[str, object]) -> BackdoorServer | None:
    """Open the backdoor `config` asks for, or return None when it is off.

    `namespace` holds the process's main objects (config, store, app…) to inspect. Raises
    RuntimeConfigError for a non-loopback host or no secret, ListenError if the address cannot be
    bound. Call `close()` on the result when stopping.
    """
    if config.unix_path is not None:
        server = BackdoorServer(namespace)
        await server.listen_unix(config.unix_path)
        return server
    if config.tcp is not None:
        server = BackdoorServer(namespace)
        await server.listen_tcp(config.tcp.host, config.tcp.port, config.secret or "")
        return server
    return None
