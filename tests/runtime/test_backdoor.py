"""Proves runtime/backdoor.py over real sockets: evaluation, injected objects, errors, loopback-only, 0600,
a secret on TCP, and HTTP requests never executed."""

from __future__ import annotations

import asyncio
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from wubloader.runtime.backdoor import PS1, BackdoorServer, start_backdoor
from wubloader.runtime.config import BackdoorConfig, HostPort
from wubloader.runtime.errors import ListenError, RuntimeConfigError

SECRET = "correct horse battery staple"


def tcp_config(host: str = "127.0.0.1") -> BackdoorConfig:
    return BackdoorConfig(tcp=HostPort(host=host, port=0), secret=SECRET)


@dataclass
class Thing:
    value: int


class Client:
    """A console session over a real socket: send a line, read everything up to the next prompt."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def read_prompt(self) -> str:
        data = await asyncio.wait_for(self.reader.readuntil(PS1.encode()), 60)
        return data.decode()[: -len(PS1)]

    async def run(self, line: str) -> str:
        self.writer.write(line.encode() + b"\n")
        return await self.read_prompt()

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def tcp_client(server: BackdoorServer) -> Client:
    assert server.port is not None
    client = Client(*await asyncio.open_connection("127.0.0.1", server.port))
    client.writer.write(SECRET.encode() + b"\n")
    banner = await client.read_prompt()
    assert "wubloader backdoor" in banner
    return client


async def test_tcp_console_evaluates_and_survives_errors() -> None:
    thing = Thing(value=41)
    server = await start_backdoor(tcp_config(), {"thing": thing})
    assert server is not None
    try:
        client = await tcp_client(server)
        assert await client.run("1+1") == "2\n"
        assert await client.run("thing.value + 1") == "42\n"
        assert await client.run("thing.value = 7") == ""
        assert thing.value == 7  # the session sees the process's real objects
        assert await client.run("print('hello')") == "hello\n"
        assert await client.run("_") == "42\n"
        error = await client.run("1/0")
        assert "Traceback" in error and "ZeroDivisionError" in error
        syntax = await client.run("def (")
        assert "SyntaxError" in syntax
        assert await client.run("raise SystemError('still alive?')") != ""
        assert await client.run("x = 5") == ""
        client.writer.write(b"def f():\n")
        assert await asyncio.wait_for(client.reader.readuntil(b"... "), 60) == b"... "
        client.writer.write(b"    return x * 2\n\n")
        await client.read_prompt()
        assert await client.run("f()") == "10\n"
        await client.close()

        # A second session has its own variables but the same injected objects.
        other = await tcp_client(server)
        assert "NameError" in await other.run("x")
        assert await other.run("thing.value") == "7\n"
        other.writer.write(b"exit()\n")
        assert await asyncio.wait_for(other.reader.read(), 60) == b""  # exit() ends the session only
        await other.close()

        third = await tcp_client(server)
        assert await third.run("2*21") == "42\n"
        await third.close()
    finally:
        await server.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", server.port)


async def test_close_ends_open_sessions() -> None:
    server = await start_backdoor(tcp_config("localhost"), {})
    assert server is not None
    client = await tcp_client(server)
    await asyncio.wait_for(server.close(), 60)
    assert await asyncio.wait_for(client.reader.read(), 60) == b""
    await client.close()


async def test_unix_socket_console_is_private(tmp_path: Path) -> None:
    path = tmp_path / "backdoor.sock"
    server = await start_backdoor(BackdoorConfig(unix_path=path), {"answer": 42})
    assert server is not None
    try:
        mode = path.stat().st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
        client = Client(*await asyncio.open_unix_connection(str(path)))
        await client.read_prompt()
        assert await client.run("answer") == "42\n"
        await client.close()
    finally:
        await server.close()
    assert not path.exists()


async def test_unix_socket_replaces_a_stale_socket_but_not_a_file(tmp_path: Path) -> None:
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(stale))  # bound, never listening: like one left by a crashed process
    server = await start_backdoor(BackdoorConfig(unix_path=stale), {})
    assert server is not None
    try:
        with pytest.raises(ListenError, match="in use"):
            await start_backdoor(BackdoorConfig(unix_path=stale), {})
    finally:
        await server.close()

    regular = tmp_path / "notes.txt"
    regular.write_text("keep me")
    with pytest.raises(ListenError, match="not a socket"):
        await start_backdoor(BackdoorConfig(unix_path=regular), {})
    assert regular.read_text() == "keep me"


async def test_non_loopback_hosts_are_refused() -> None:
    for host in ["0.0.0.0", "192.168.1.10", "::"]:
        with pytest.raises(RuntimeConfigError, match="loopback"):
            tcp_config(host)
    server = BackdoorServer({})
    for host in ["0.0.0.0", "::", "example.org"]:
        with pytest.raises(RuntimeConfigError, match="loopback"):
            await server.listen_tcp(host, 0, SECRET)


async def test_disabled_backdoor_opens_nothing() -> None:
    assert await start_backdoor(BackdoorConfig(), {"x": 1}) is None


async def test_tcp_needs_a_secret_and_refuses_a_wrong_one(tmp_path: Path) -> None:
    for secret in (None, "", "short"):
        with pytest.raises(RuntimeConfigError, match="secret"):
            BackdoorConfig(tcp=HostPort(host="127.0.0.1", port=0), secret=secret)
    assert SECRET not in repr(tcp_config())
    flag = tmp_path / "ran"
    server = await start_backdoor(tcp_config(), {})
    assert server is not None
    try:
        for first in [b"wrong secret here!\n", f"open({str(flag)!r}, 'w')\n".encode()]:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(first + f"open({str(flag)!r}, 'w')\n".encode())
            assert await asyncio.wait_for(reader.read(), 60) == b""  # no banner, closed
            writer.close()
    finally:
        await server.close()
    assert not flag.exists()


def http_post(flag: Path) -> bytes:
    """What a web page's `fetch(…, {method: "POST", body})` sends: code lines in the body."""
    body = f"import pathlib\npathlib.Path({str(flag)!r}).write_text('pwned')\n".encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def test_http_requests_are_never_executed(tmp_path: Path) -> None:
    flag = tmp_path / "pwned"
    unix = await start_backdoor(BackdoorConfig(unix_path=tmp_path / "bd.sock"), {})
    tcp = await start_backdoor(tcp_config(), {})
    assert unix is not None and tcp is not None
    try:
        connections = [
            await asyncio.open_unix_connection(str(tmp_path / "bd.sock")),
            await asyncio.open_connection("127.0.0.1", tcp.port),
        ]
        for reader, writer in connections:
            writer.write(http_post(flag))
            data = await asyncio.wait_for(reader.read(), 60)  # closed by the server
            assert b"pwned" not in data
            writer.close()
    finally:
        await unix.close()
        await tcp.close()
    assert not flag.exists()


def test_a_real_process_guards_its_tcp_backdoor(tmp_path: Path, components: list) -> None:
    from tests.harness.processes import free_port, start_component

    base = tmp_path / "store"
    base.mkdir()
    port, console = free_port(), free_port()
    args = ["restreamer", "--base-dir", str(base), "--port", str(port), "--backdoor-tcp", str(console)]
    refused = start_component(args, tmp_path / "logs", ready_path=None)
    assert refused.process.wait(timeout=60) == 2
    assert "--backdoor-secret-file" in refused.log() and "Traceback" not in refused.log()

    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n")
    restreamer = start_component([*args, "--backdoor-secret-file", str(secret)], tmp_path / "logs", port=port)
    components.append(restreamer)
    flag = tmp_path / "pwned"
    with socket.create_connection(("127.0.0.1", console), timeout=10) as sock:
        sock.sendall(http_post(flag))
        assert sock.recv(1000) == b""
    with socket.create_connection(("127.0.0.1", console), timeout=10) as sock:
        sock.sendall(SECRET.encode() + b"\n1+1\nexit()\n")
        out = b""
        while chunk := sock.recv(1000):
            out += chunk
    assert b">>> 2\n>>> " in out
    assert not flag.exists()
    assert restreamer.stop() == 0
    assert "refused: an HTTP request" in restreamer.log()
    assert SECRET not in restreamer.log()
