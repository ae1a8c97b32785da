"""Connection limits against the real process with real sockets: cap, idle/header timeout, no log flood."""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.store_builder import build_store, write_segment


def start(tmp_path, components, *flags: str, file_limit: int | None = None):
    base = tmp_path / "store"
    paths = build_store(base, STORE_START, 3)
    port = free_port()
    server = start_component(
        ["restreamer", "--base-dir", str(base), "--port", str(port), *flags],
        tmp_path / "logs",
        port=port,
        file_limit=file_limit,
    )
    components.append(server)
    return server, paths


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.settimeout(30)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def refused(port: int) -> bool:
    """Whether a new connection is answered 503 at once (not held: it is closed after a second)."""
    with connect(port) as probe:
        probe.settimeout(1)
        try:
            return probe.recv(12) == b"HTTP/1.1 503"
        except TimeoutError:
            return False


def request(sock: socket.socket, path: str) -> bytes:
    """One keep-alive GET; returns the response head (bodies here are small and read whole)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_connections_over_the_cap_get_503_and_idle_ones_are_closed(tmp_path, components):
    """500 slow connections used to be held forever (no cap, a one-hour keep-alive timeout)."""
    # The idle timeout is the window in which the extra connections must find the cap full: wide enough
    # for a loaded machine.
    server, _ = start(tmp_path, components, "--max-connections", "20", "--idle-timeout", "10s")
    idle = [connect(server.port) for _ in range(20)]
    wait_until(lambda: refused(server.port), 60, message="the server to hold all 20 connections")
    extra = [connect(server.port) for _ in range(10)]
    for sock in extra:
        answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), answer
        assert b"Retry-After: 5\r\n" in answer and answer.endswith(b"too many connections\n")
    started = time.monotonic()
    for sock in idle:
        assert read_all(sock) == b""  # closed by the server, no request ever sent
    assert time.monotonic() - started < 25
    with connect(server.port) as sock:
        assert request(sock, "/files").startswith(b"HTTP/1.1 200")
    assert "connection(s) refused: 20 open is the limit" in server.log()


def test_a_slowly_dripped_request_head_is_cut_off(tmp_path, components):
    server, _ = start(tmp_path, components, "--idle-timeout", "2s")
    sock = connect(server.port)
    started = time.monotonic()
    head = b"GET /files HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    closed = False
    for byte in head:
        try:
            sock.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        time.sleep(0.1)
        if time.monotonic() - started > 30:
            break
    if not closed:
        sock.settimeout(10)
        assert sock.recv(100) == b""
    assert time.monotonic() - started < 30
    sock.close()


def test_out_of_descriptors_is_503_and_logs_a_few_lines(tmp_path, components):
    """Running out of file descriptors used to log a traceback per request (5,000 a second)."""
    server, paths = start(
        tmp_path, components, "--max-connections", "1000", "--idle-timeout", "120s", file_limit=64
    )
    segment = "/segments/chan/source/2024-05-01T10/" + paths[0].name.replace(":", "%3A")
    hammer = connect(server.port)
    assert request(hammer, segment).startswith(b"HTTP/1.1 200")
    hogs = [connect(server.port) for _ in range(80)]  # more than the descriptors left
    wait_until(
        lambda: request(hammer, segment).startswith(b"HTTP/1.1 503"), 30, message="descriptors used up"
    )
    heads = [request(hammer, segment) for _ in range(300)]
    assert all(h.startswith(b"HTTP/1.1 503") and b"Retry-After: 5" in h for h in heads)
    log = server.log()
    assert log.count("Traceback") <= 10, log[-3000:]
    assert len(log.splitlines()) < 100, log[-3000:]
    assert "more like this suppressed" in log or log.count("out of file descriptors") <= 10
    for sock in hogs:
        sock.close()
    wait_until(lambda: request(hammer, segment).startswith(b"HTTP/1.1 200"), 30, message="descriptors back")
    hammer.close()
    assert server.stop() == 0


def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout(tmp_path, components):
    """`--send-timeout`: the kernel aborts a connection whose client has taken nothing for that
    long. Read afterwards, the answer ends early: what the buffers held, then a reset or EOF."""
    server, _ = start(tmp_path, components, "--send-timeout", "1s")
    content = os.urandom(32 * 1024 * 1024)
    big = write_segment(tmp_path / "store", STORE_START + timedelta(seconds=30), content=content)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    target = "/segments/chan/source/2024-05-01T10/" + big.name.replace(":", "%3A")
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    sock.settimeout(30)
    assert sock.recv(12) == b"HTTP/1.1 200"  # answered; from now on nothing is read
    time.sleep(3)  # the timeout runs in the kernel: no scheduling delay stretches it
    data = b""
    try:
        while chunk := sock.recv(1 << 20):
            data += chunk
    except ConnectionResetError:
        pass
    sock.close()
    body = data.partition(b"\r\n\r\n")[2]
    assert len(body) < len(content) // 2 and content.startswith(body)
    assert server.stop() == 0
