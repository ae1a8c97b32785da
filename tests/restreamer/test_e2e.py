"""End to end against a real `wubloader restreamer` process on 127.0.0.1: real HLS clients, real signals."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import m3u8
import pytest

from tests.conftest import STORE_START
from tests.harness.media import FPS, probe_duration, store_clip
from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.store_builder import build_store, write_segment
from wubloader.store import create_tombstone

pytestmark = pytest.mark.slow

FMT = "%Y-%m-%dT%H:%M:%S"
FRAME = 1 / FPS


def start_restreamer(base, tmp_path, components):
    port = free_port()
    component = start_component(
        ["restreamer", "--base-dir", str(base), "--port", str(port)], tmp_path / "logs", port=port
    )
    components.append(component)
    return component


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def playlist_url(server, start, seconds: float) -> str:
    end = start + timedelta(seconds=seconds)
    return f"{server.url}/playlist/chan/source.m3u8?start={start:{FMT}}&end={end:{FMT}}"


def ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.ffmpeg
def test_ffmpeg_plays_five_minutes(tmp_path, clip, components):
    base = tmp_path / "store"
    store_clip(base, clip, STORE_START, repeat=5)
    server = start_restreamer(base, tmp_path, components)
    url = playlist_url(server, STORE_START, 300)
    playlist = m3u8.loads(get(url)[1].decode())
    assert len(playlist.segments) == 150 and playlist.is_endlist
    out = tmp_path / "out.ts"
    copy = ffmpeg("-i", url, "-c", "copy", str(out))
    assert copy.returncode == 0 and copy.stderr == "", copy.stderr
    assert abs(probe_duration(out) - 300.0) <= FRAME
    # The store repeats one 60 s clip whose AAC track runs 512 samples past 60 s, so at each loop
    # point the audio overlaps itself by 10 ms: an artefact of the fixture, not of the playlist.
    # So: all 5 minutes of video, and audio + video of the first loop, must decode without a word.
    decode = ffmpeg("-i", url, "-map", "0:v", "-f", "null", "-")
    assert decode.returncode == 0 and decode.stderr == "", decode.stderr
    decode = ffmpeg("-i", playlist_url(server, STORE_START, 60), "-f", "null", "-")
    assert decode.returncode == 0 and decode.stderr == "", decode.stderr


@pytest.mark.ffmpeg
def test_ffmpeg_plays_through_a_hole(tmp_path, clip, components):
    base = tmp_path / "store"
    store_clip(base, clip, STORE_START, skip=frozenset({10, 11}))  # 4 s hole at 20 s
    server = start_restreamer(base, tmp_path, components)
    url = playlist_url(server, STORE_START, 60)
    playlist = m3u8.loads(get(url)[1].decode())
    assert [i for i, s in enumerate(playlist.segments) if s.discontinuity] == [10]
    assert playlist.is_endlist
    out = tmp_path / "out.ts"
    copy = ffmpeg("-i", url, "-c", "copy", str(out))
    assert copy.returncode == 0 and copy.stderr == "", copy.stderr
    # 56 s of media; the hole is either kept as a timestamp gap or closed up, nothing else.
    assert abs(probe_duration(out) - 56.0) <= FRAME or abs(probe_duration(out) - 60.0) <= FRAME
    decode = ffmpeg("-i", url, "-f", "null", "-")
    assert decode.returncode == 0 and decode.stderr == "", decode.stderr


def test_tombstone_everywhere(tmp_path, components):
    base = tmp_path / "store"
    paths = [write_segment(base, STORE_START + timedelta(seconds=2 * i)) for i in range(5)]
    server = start_restreamer(base, tmp_path, components)
    hour_url = f"{server.url}/files/chan/source/2024-05-01T10"
    seg_url = f"{server.url}/segments/chan/source/2024-05-01T10/{paths[2].name.replace(':', '%3A')}"
    assert get(seg_url)[0] == 200
    tombstone = create_tombstone(paths[2])
    assert json.loads(get(hour_url)[1]) == [p.name for p in paths if p != paths[2]]
    assert json.loads(get(hour_url + "?tombstones=true")[1])[-1] == tombstone.name
    assert get(seg_url) == (404, b"segment is tombstoned\n")
    playlist = m3u8.loads(get(playlist_url(server, STORE_START, 10))[1].decode())
    assert len(playlist.segments) == 4
    assert [s.discontinuity for s in playlist.segments] == [False, False, True, False]


def test_live_polling_never_rewrites_lines(tmp_path, components):
    """Segments keep arriving (some out of order) while a client polls an open-ended playlist."""
    base = tmp_path / "store"
    (base / "chan" / "source").mkdir(parents=True)
    server = start_restreamer(base, tmp_path, components)
    first = (datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)).replace(microsecond=0)
    count = 45
    done = threading.Event()

    def writer() -> None:
        order = list(range(count))
        for i in range(3, count - 3, 9):  # every 9th segment arrives one late
            order[i], order[i + 1] = order[i + 1], order[i]
        for i in order:
            write_segment(base, first + timedelta(seconds=2 * i))
            time.sleep(0.08)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    url = f"{server.url}/playlist/chan/source.m3u8?start={first:{FMT}}"
    previous: list[str] = []
    polls = 0
    try:
        while not done.is_set() or polls < 3:
            status, body = get(url)
            assert status == 200
            lines = body.decode().splitlines()
            assert lines[: len(previous)] == previous
            assert "#EXT-X-ENDLIST" not in lines
            previous = lines
            polls += 1
            if done.is_set():
                polls = max(polls, 3)
            time.sleep(0.05)
    finally:
        thread.join()
    final = m3u8.loads("\n".join(previous))
    assert len(final.segments) == count and not any(s.discontinuity for s in final.segments)


def test_sigterm_during_large_download_completes(tmp_path, components):
    base = tmp_path / "store"
    data = os.urandom(48 * 1024 * 1024)
    path = write_segment(base, STORE_START, content=data)
    server = start_restreamer(base, tmp_path, components)
    target = "/segments/chan/source/2024-05-01T10/" + path.name.replace(":", "%3A")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    received = bytearray(sock.recv(256 * 1024))
    server.process.send_signal(signal.SIGTERM)
    # The server stops listening while our download continues.
    wait_until(lambda: _refused(server.port), timeout=10, message="listening socket to close")
    while chunk := sock.recv(1024 * 1024):
        received += chunk
        time.sleep(0.001)
    sock.close()
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert len(body) == len(data), (len(body), head, server.log()[-2000:])
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
    # The first signal already asked for the exit: wait for it. A second signal would mean "stop now".
    assert server.wait_exit(timeout=30) == 0


def test_second_sigterm_during_download_stops_at_once(tmp_path, components):
    base = tmp_path / "store"
    path = write_segment(base, STORE_START, content=os.urandom(48 * 1024 * 1024))
    server = start_restreamer(base, tmp_path, components)
    target = "/segments/chan/source/2024-05-01T10/" + path.name.replace(":", "%3A")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert sock.recv(256 * 1024).startswith(b"HTTP/1.1 200")
    server.process.send_signal(signal.SIGTERM)
    wait_until(lambda: _refused(server.port), timeout=10, message="listening socket to close")
    # We stop reading, so the download cannot finish; the second signal must end the process anyway.
    assert server.stop(signal.SIGTERM, timeout=10) == 128 + signal.SIGTERM
    sock.close()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.mark.ffmpeg
def test_schemathesis_finds_no_server_errors(tmp_path, clip, components):
    base = tmp_path / "store"
    store_clip(base, clip, STORE_START)
    server = start_restreamer(base, tmp_path, components)
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run",
            f"{server.url}/openapi.json", "--checks", "not_a_server_error", "--max-examples", "15",
            "--workers", "1", "--generation-deterministic", "--phases", "coverage,fuzzing",
            "--request-timeout", "30",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout


def test_clients_leaving_mid_playlist_are_not_errors(tmp_path, components):
    base = tmp_path / "store"
    build_store(base, STORE_START, 15000, contents=[b"x"])
    server = start_restreamer(base, tmp_path, components)
    end = STORE_START + timedelta(seconds=30000)
    target = f"/playlist/chan/source.m3u8?start={STORE_START:{FMT}}&end={end:{FMT}}"
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert sock.recv(1000).startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        sock.close()
    status, body = get(server.url + target)
    assert status == 200 and body.endswith(b"#EXT-X-ENDLIST\n")
    assert server.stop() == 0
    assert "Traceback" not in server.log() and "ERROR" not in server.log()


def test_malformed_requests_get_400_without_tracebacks(tmp_path, components):
    base = tmp_path / "store"
    write_segment(base, STORE_START)
    server = start_restreamer(base, tmp_path, components)
    for raw in [
        b"GET /files/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /playlist/chan/source.m3u8?start=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /files HTTP/1.1\r\nHost: x\r\nBad Header\x00: 1\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(raw)
            assert sock.recv(1000).split(b" ")[1] == b"400", raw
    assert get(f"{server.url}/files") == (200, b'["chan"]')
    assert server.stop() == 0
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log
    assert "refused malformed request" in log
