"""A node under hostile load keeps archiving, answers peers and still stops on SIGTERM (real process)."""

from __future__ import annotations

import concurrent.futures
import json
import urllib.error
import urllib.request

import pytest

from tests.harness.processes import free_port, start_component, wait_until

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]

HUGE = "start=1970-01-01T00:00:00&end=8999-01-01T00:00:00"  # the widest times accepted at all


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def archived(url: str) -> int:
    status, body = fetch(f"{url}/files/demo/source")
    if status != 200:
        return 0
    return sum(len(json.loads(fetch(f"{url}/files/demo/source/{hour}")[1])) for hour in json.loads(body))


def test_year_long_playlists_neither_stall_archiving_nor_shutdown(tmp_path, components):
    """Eight such requests used to hold every thread: the downloader stored nothing, SIGTERM hung."""
    port = free_port()
    node = start_component(
        ["node", "--demo", "--base-dir", str(tmp_path / "store"), "--port", str(port)],
        tmp_path / "logs",
        port=port,
        ready_path="/files",
    )
    components.append(node)
    wait_until(lambda: archived(node.url) >= 2, 60, message="the node to archive the demo stream")
    with concurrent.futures.ThreadPoolExecutor(8) as clients:
        answers = list(clients.map(fetch, [f"{node.url}/playlist/demo/source.m3u8?{HUGE}"] * 8))
    assert {status for status, _ in answers} == {400}
    assert all(b"--max-range" in body for _, body in answers)
    before = archived(node.url)
    wait_until(lambda: archived(node.url) >= before + 2, 60, message="archiving to go on")
    assert node.stop(timeout=30) == 0
