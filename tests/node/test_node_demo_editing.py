"""`wubloader node --demo` as the whole product: a demo event appears, two ranges with a fade are
submitted through thrimshim's API, the node's own cutter publishes the video, and its link plays."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta

import pytest

from tests.harness.media import probe_duration
from tests.harness.processes import free_port, start_component, wait_until

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]

FPS = 25  # the demo stream's frame rate
FADE = 1.0


def get_json(url: str):  # type: ignore[no-untyped-def]
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def stamp(value: datetime) -> str:
    return value.isoformat() + "Z"


def submission(row: dict, ranges: list[tuple[datetime, datetime]]) -> dict:
    """What the edit page sends on Submit: the sheet columns as loaded plus the edit."""
    sheet = {key: row[key] for key in ("sheet_name", "event_start", "event_end", "category", "description", "notes", "tags")}
    return {
        **sheet, "state": "EDITED", "upload_location": row["upload_locations"][0], "video_channel": "demo",
        "video_quality": "source", "video_ranges": [[stamp(a), stamp(b)] for a, b in ranges],
        "video_transitions": [["fade", FADE]], "video_title": "My first cut", "video_description": "Cut in the demo",
        "video_tags": ["demo"], "thumbnail_mode": "BARE", "thumbnail_time": stamp(ranges[0][0]),
        "thumbnail_template": None, "public": True, "allow_holes": False, "uploader_whitelist": None,
    }  # fmt: skip


@pytest.mark.timeout(420)
def test_demo_node_cuts_a_submitted_demo_event(tmp_path, components):
    port, editor_port = free_port(), free_port()
    node = start_component(
        ["node", "--demo", "--base-dir", str(tmp_path / "store"), "--port", str(port), "--editor-port", str(editor_port)],
        tmp_path / "logs", port=port, ready_path="/files",
    )  # fmt: skip
    components.append(node)
    editor = f"http://127.0.0.1:{editor_port}"
    wait_until(lambda: f"editor:     {editor}/" in node.log(), 30, message="the editor URL in the summary")
    assert "NO AUTHENTICATION" in node.log() and "127.0.0.1 only" in node.log()
    assert b"<html" in urllib.request.urlopen(editor + "/", timeout=10).read()

    wait_until(lambda: get_json(f"{editor}/thrimshim"), 150, interval=1, message="the first demo event")
    event_id = get_json(f"{editor}/thrimshim")[0]["id"]
    row = get_json(f"{editor}/thrimshim/{event_id}")
    start = datetime.fromisoformat(row["event_start"].removesuffix("Z")).replace(tzinfo=None)
    end = datetime.fromisoformat(row["event_end"].removesuffix("Z")).replace(tzinfo=None)
    assert end - start >= timedelta(seconds=30)
    ranges = [(start + timedelta(seconds=3), start + timedelta(seconds=9)),
              (start + timedelta(seconds=14), start + timedelta(seconds=22))]  # fmt: skip
    post_json(f"{editor}/thrimshim/{event_id}", submission(row, ranges))

    def done() -> bool:
        state = get_json(f"{editor}/thrimshim/{event_id}")
        assert state["state"] not in ("UNEDITED",) or not state["error"], state["error"]
        return state["state"] == "DONE"

    wait_until(done, 180, interval=1, message="the demo event's video to be DONE")
    link = get_json(f"{editor}/thrimshim/{event_id}")["video_link"]
    assert link.startswith(f"{editor}/videos/")
    video = tmp_path / "video.ts"
    video.write_bytes(urllib.request.urlopen(link, timeout=30).read())
    expected = sum((b - a).total_seconds() for a, b in ranges) - FADE
    assert abs(probe_duration(video) - expected) <= 1 / FPS + 1e-3
    assert node.stop() == 0
    assert "Traceback" not in node.log()
