"""Two real node processes: A archives the demo stream, B (no source) backfills from A and re-serves it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest

from tests.harness.media import probe_duration
from tests.harness.processes import free_port, generous, start_component, wait_until
from wubloader.runtime.timeparse import format_utc

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]

WINDOW = timedelta(seconds=40)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def get_or_empty(url: str) -> bytes:
    """The body, or b"" while the node has nothing there yet (404)."""
    try:
        return get(url)
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
        return b""


def segment_names(node_url: str) -> list[str]:
    hours = json.loads(get(f"{node_url}/files/demo/source"))
    names = []
    for hour in hours:
        names += [f"{hour}/{n}" for n in json.loads(get(f"{node_url}/files/demo/source/{hour}"))]
    return names


def first_start(names: list[str]) -> datetime:
    hour, name = names[0].split("/")
    return datetime.strptime(f"{hour}:{name[:12]}", "%Y-%m-%dT%H:%M:%S.%f")


def temp_files(base) -> list[str]:
    return [name for _, _, files in os.walk(base) for name in files if "-temp-" in name]


def test_demo_node_and_backfilling_node(tmp_path, components):
    port_a, port_b = free_port(), free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    node_a = start_component(
        ["node", "--demo", "--base-dir", str(tmp_path / "a"), "--port", str(port_a), "--nodes", url_b],
        tmp_path / "logs", port=port_a, ready_path="/files",
    )  # fmt: skip
    components.append(node_a)
    node_b = start_component(
        ["node", "--base-dir", str(tmp_path / "b"), "--port", str(port_b), "--nodes", url_a],
        tmp_path / "logs", port=port_b, ready_path="/files",
        env={"WUBLOADER_PASS_INTERVAL": "2"},
    )  # fmt: skip
    components.append(node_b)
    assert "ffplay" in node_a.log()  # the start-up summary tells people where to look

    wait_until(lambda: len(segment_names(url_a)) >= 3, 60, message="node A archiving the demo stream")
    # The demo's editing side runs on SQLite without sign-in: it never loads the PostgreSQL driver or
    # PyJWT's cryptography (~18 MiB resident between them).
    thrimshim = re.search(r"thrimshim API at (http://127\.0\.0\.1:[0-9]+/thrimshim)", node_a.log())
    assert thrimshim is not None
    assert isinstance(json.loads(get(thrimshim[1])), list)  # the editing side is up, on its database
    loaded = open(f"/proc/{node_a.process.pid}/maps").read()
    assert "psycopg" not in loaded and "cryptography" not in loaded
    start = first_start(segment_names(url_a)) + timedelta(seconds=1)
    end = start + WINDOW
    wait_until(
        lambda: (
            b"#EXT-X-ENDLIST"
            in get_or_empty(
                f"{url_b}/playlist/demo/source.m3u8?start={format_utc(start)}&end={format_utc(end)}"
            )
        ),
        WINDOW.total_seconds() + 60,
        interval=1,
        message="node B to hold the whole window",
    )
    playlist = get(
        f"{url_b}/playlist/demo/source.m3u8?start={format_utc(start)}&end={format_utc(end)}"
    ).decode()
    assert "#EXT-X-DISCONTINUITY" not in playlist
    expected = sum(float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", playlist))
    assert expected >= WINDOW.total_seconds()

    out = tmp_path / "b.ts"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", f"{url_b}/playlist/demo/source.m3u8?start={format_utc(start)}&end={format_utc(end)}",
         "-c", "copy", "-y", str(out)],
        check=True, timeout=120,
    )  # fmt: skip
    duration = probe_duration(out)
    assert abs(duration - expected) <= 1 / 25 + 0.03  # one frame, plus AAC priming at the very start

    # B's copies are byte-identical to A's (same names carry the same hashes, checked on arrival).
    on_b = set(segment_names(url_b))
    for name in list(on_b)[:5]:
        assert get(f"{url_a}/segments/demo/source/{name.replace(':', '%3A')}") == get(
            f"{url_b}/segments/demo/source/{name.replace(':', '%3A')}"
        )

    for node in (node_a, node_b):
        node.process.send_signal(signal.SIGTERM)  # once: a second SIGTERM means "stop now"
    codes = [node.process.wait(timeout=generous(10)) for node in (node_a, node_b)]  # bounds a hang only
    assert codes == [0, 0]
    assert temp_files(tmp_path / "a") == [] and temp_files(tmp_path / "b") == []
