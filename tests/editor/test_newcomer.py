"""The newcomer's path, in Chromium, on a real `wubloader node --demo`: open the printed editor URL, open
the demo event, set two ranges with a fade and a thumbnail in a template (previewed by the node's
restreamer, which reads the template from the node's database), submit, watch the row become DONE on
the events page without a reload, and play the published video in the page. The file is checked
with ffprobe."""

from __future__ import annotations

import base64
import io
import json
import re
import urllib.request
from datetime import datetime

import pytest
from PIL import Image

from tests.editor.browser import save_screenshot, serious_accessibility_violations
from tests.harness.media import probe_duration
from tests.harness.processes import free_port, start_component, wait_until

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]

FPS = 25  # the demo stream's frame rate
FADE = 1.0
# Seconds into the player's window: the first demo event holds at least 30 s of archived video.
RANGES = [(3.0, 9.0), (14.0, 22.0)]


TEMPLATE_SIZE = (64, 36)


def add_template(editor: str) -> None:
    """A template with a transparent window for the frame, through thrimshim's API (the demo asks no sign-in)."""
    image = Image.new("RGBA", TEMPLATE_SIZE, (200, 40, 40, 255))
    image.paste((0, 0, 0, 0), (8, 4, 56, 32))
    png = io.BytesIO()
    image.save(png, format="PNG")
    body = {
        "name": "banner", "image": base64.b64encode(png.getvalue()).decode(), "description": "A banner",
        "attribution": "", "crop": [0, 0, 640, 360], "location": [8, 4, 56, 32],
    }  # fmt: skip
    request = urllib.request.Request(
        f"{editor}thrimshim/add-template", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def seek(page, seconds: float) -> None:
    page.evaluate(f"document.getElementById('video').currentTime = {seconds}")
    page.wait_for_function(
        "t => { const v = document.getElementById('video'); return !v.seeking && Math.abs(v.currentTime - t) < 1e-3; }",
        arg=seconds,
    )


@pytest.fixture
def demo_node(tmp_path, components):
    """`wubloader node --demo` as a newcomer starts it; returns (the printed editor URL, the base dir)."""
    port, editor_port = free_port(), free_port()
    base = tmp_path / "store"
    args = ["node", "--demo", "--base-dir", str(base), "--port", str(port), "--editor-port", str(editor_port)]
    node = start_component(args, tmp_path / "logs", port=port, ready_path="/files")
    components.append(node)
    wait_until(lambda: re.search(r"editor: +(http://\S+/) ", node.log()), 30, message="the editor URL")
    assert "NO AUTHENTICATION" in node.log() and "127.0.0.1 only" in node.log()
    yield re.search(r"editor: +(http://\S+/) ", node.log()).group(1), base
    assert node.stop() == 0
    assert "Traceback" not in node.log()


@pytest.mark.timeout(420)
def test_newcomer_cuts_a_demo_event_in_the_browser(demo_node, page):
    editor, base = demo_node
    page.goto(editor)
    page.wait_for_selector("body[data-ready=yes]")
    # The events page refreshes itself: the first demo event appears once 30 s are archived.
    first_row = page.wait_for_selector("tbody tr[data-id]", timeout=150_000)
    event_id = first_row.get_attribute("data-id")
    add_template(editor)
    page.click(f"tr[data-id='{event_id}'] a[href^='/edit/']")
    page.wait_for_selector("body[data-ready=yes]")
    assert page.get_attribute("body", "data-loaded") == "yes", page.inner_text("#notices")
    page.wait_for_selector("#waveform[data-state=drawn]")

    for (start, end), move in zip(RANGES, [None, "p"], strict=True):
        if move:
            page.keyboard.press(move)
        seek(page, start)
        page.keyboard.press("[")
        seek(page, end)
        page.keyboard.press("]")
    page.select_option(".range[data-index='1'] .transition-type", "fade")
    page.fill(".range[data-index='1'] .transition-duration", str(FADE))
    # The thumbnail preview is the restreamer's frame composed into the template, as the cutter makes it.
    page.select_option("#thumbnail-mode", "TEMPLATE")
    page.select_option("#thumbnail-template", "banner")
    seek(page, 5.0)
    page.click("#thumbnail-set")
    page.click("#thumbnail-preview-button")
    page.wait_for_function(
        "(() => { const i = document.getElementById('thumbnail-frame'); return i.complete && i.naturalWidth > 0; })()"
    )
    assert page.evaluate(
        "(i => [i.naturalWidth, i.naturalHeight])(document.getElementById('thumbnail-frame'))"
    ) == list(TEMPLATE_SIZE)
    page.fill("#video-title", "My first cut")
    page.click("#submit")
    page.wait_for_selector("text=Submitted edit")
    assert serious_accessibility_violations(page) == []

    # Back to the events page: the cutter's progress shows up there without a reload.
    page.goto(editor)
    page.wait_for_selector("body[data-ready=yes]")
    page.evaluate("window.notReloaded = true")
    page.wait_for_selector(f"tr[data-id='{event_id}'] >> text=DONE", timeout=180_000)
    assert page.evaluate("window.notReloaded === true")
    assert page.inner_text(f"tr[data-id='{event_id}'] .error-text") == ""
    save_screenshot(page, "newcomer-events-done")

    with urllib.request.urlopen(f"{editor}thrimshim/{event_id}", timeout=10) as response:
        row = json.load(response)
    assert row["video_transitions"] == [["fade", FADE]]
    ranges = [(parse_utc(a), parse_utc(b)) for a, b in row["video_ranges"]]
    # Each range is what the playhead showed: its length is the seconds between the two seeks
    # (within a frame: each segment's wall time comes from its own PROGRAM-DATE-TIME).
    lengths = [(b - a).total_seconds() for a, b in ranges]
    assert all(abs(got - (end - start)) <= 1 / FPS for got, (start, end) in zip(lengths, RANGES, strict=True))
    videos = list((base / ".wubloader" / "videos").glob("*.ts"))
    assert [video.name for video in videos] == [row["video_link"].rsplit("/", 1)[1]]
    expected = sum((b - a).total_seconds() for a, b in ranges) - FADE
    assert abs(probe_duration(videos[0]) - expected) <= 1 / FPS + 1e-3

    # The video's link plays in the page.
    page.click(f"tr[data-id='{event_id}'] a[href^='/edit/']")
    page.wait_for_selector("body[data-ready=yes]")
    assert page.inner_text("#row-link").startswith(row["video_link"])
    page.click("#play-published")
    page.wait_for_selector("#preview-dialog[open]")
    page.wait_for_function("document.getElementById('preview-video').currentTime > 1", timeout=60_000)
    save_screenshot(page, "newcomer-published-video")
    page.click("#preview-close")
    assert not page.is_visible("#preview-dialog")
