"""The restreamer view (/watch) in Chromium against a real restreamer process over real encoded media."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import STORE_START
from tests.editor.browser import save_screenshot, serious_accessibility_violations
from tests.editor.servers import start_restreamer
from tests.harness.media import FPS, loop_clip, probe_duration, store_clip
from tests.harness.processes import stop_all
from wubloader.editor.routes import EditorConfig

pytestmark = pytest.mark.ffmpeg
FMT = "%Y-%m-%dT%H:%M:%S"
LONG_SECONDS = 180
HOLE = (20.0, 30.0)  # seconds into the "holes" channel with no segments


def at(seconds: float) -> str:
    return f"{STORE_START + timedelta(seconds=seconds):{FMT}}"


@pytest.fixture(scope="module")
def restreamer(tmp_path_factory, clip):
    """A real `wubloader restreamer`: `chan` has 180 s of video; `holes` 60 s with 20-30 s missing.

    The long clip loops the short one with continuous timestamps, as a real stream's never jump back.
    """
    base = tmp_path_factory.mktemp("store")
    long_clip = loop_clip(tmp_path_factory.mktemp("long"), clip, LONG_SECONDS // 60)
    store_clip(base, long_clip, STORE_START)
    skip = frozenset(range(int(HOLE[0] / 2), int(HOLE[1] / 2)))
    store_clip(base, clip, STORE_START, channel="holes", skip=skip)
    component = start_restreamer(base, tmp_path_factory.mktemp("logs"))
    yield component
    stop_all([component])


@pytest.fixture
def editor_url(restreamer, serve_editor) -> str:
    return serve_editor(EditorConfig(restreamer_url=restreamer.url, thrimshim_url=None))


def open_window(page, editor_url: str, channel: str, start: float, end: float) -> None:
    page.goto(f"{editor_url}/watch?channel={channel}&start={at(start)}&end={at(end)}")
    page.wait_for_selector("body[data-ready=yes]")
    assert page.get_attribute("body", "data-loaded") == "yes", page.inner_text("#notices")


def video_time(page) -> float:
    return page.evaluate("document.getElementById('video').currentTime")


# Chromium keeps media time in microseconds: a paused seek reports its target to within that.
MEDIA_CLOCK = 1e-6


def wait_seeked_to(page, target: float, what: str = "") -> None:
    """Wait until the seek settled at `target` (exact: a paused seek reports its target)."""
    try:
        page.wait_for_function(
            "([t, eps]) => { const v = document.getElementById('video'); return !v.seeking && Math.abs(v.currentTime - t) <= eps; }",
            arg=[target, 2 * MEDIA_CLOCK],
            timeout=60_000,  # bounds a hang only: Chromium crawls under load
        )
    except Exception:
        raise AssertionError(
            f"{what}: expected the playhead at {target}, it is at {video_time(page)}"
        ) from None


# The page seeks to a digit's tenths of the duration it sees when the key is pressed, and hls.js
# refines the duration by a few hundredths of a second as it parses fragments (one near the new
# playhead among them): every duration seen from just before the key press on is a right target.
SEEN_DURATIONS = """() => {
    const v = document.getElementById('video');
    window.seenDurations = [v.duration];
    if (!window.noteDuration) {
        window.noteDuration = () => window.seenDurations.push(v.duration);
        v.addEventListener('durationchange', window.noteDuration);
    }
}"""


def wait_seeked_to_tenths(page, digit: int) -> None:
    """Wait until the seek settled at `digit` tenths of a duration seen since `SEEN_DURATIONS` (0.01 s)."""
    try:
        page.wait_for_function(
            "([d]) => { const v = document.getElementById('video'); return !v.seeking &&"
            " window.seenDurations.some((D) => Math.abs(v.currentTime - D * d / 10) <= 0.01); }",
            arg=[digit],
            timeout=60_000,  # bounds a hang only: Chromium crawls under load
        )
    except Exception:
        state = page.evaluate(
            "(() => { const v = document.getElementById('video');"
            " return [v.currentTime, v.seeking, window.seenDurations]; })()"
        )
        raise AssertionError(f"key {digit}: playhead, seeking, durations seen: {state}") from None


def test_watch_plays_with_waveform_and_accessible(page, editor_url):
    open_window(page, editor_url, "chan", 0, 60)
    page.wait_for_selector("#waveform[data-state=drawn]")
    page.keyboard.press("k")
    page.wait_for_function("document.getElementById('video').currentTime > 1.5")
    # A decoded frame is a real picture: testsrc2 has many colours, a blank frame has one.
    spread = page.evaluate(
        """() => {
        const v = document.getElementById('video');
        const c = document.createElement('canvas');
        c.width = v.videoWidth; c.height = v.videoHeight;
        const g = c.getContext('2d'); g.drawImage(v, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) colours.add((d[i] >> 4) << 8 | (d[i + 1] >> 4) << 4 | d[i + 2] >> 4);
        return {colours: colours.size, width: v.videoWidth};
    }"""
    )
    assert spread["width"] == 320
    assert spread["colours"] > 20
    # The waveform's marker follows the playhead.
    page.wait_for_function("parseFloat(document.querySelector('.waveform-marker').style.left) > 0")
    page.keyboard.press("k")
    assert serious_accessibility_violations(page) == []
    save_screenshot(page, "watch-page")


def test_hole_is_jumped(page, editor_url):
    open_window(page, editor_url, "holes", 0, 60)
    # Player time collapses the hole: 1 s before the hole's start is 19 s in (hls.js places fragments by
    # their real PTS, a few ms off the playlist's sums); play across the join.
    before = page.evaluate(f"window.wubloaderPage.player.playerTime(new Date('{at(HOLE[0] - 1)}Z'))")
    assert before == pytest.approx(HOLE[0] - 1, abs=0.05)
    page.evaluate(f"document.getElementById('video').currentTime = {before}")
    page.keyboard.press("k")
    page.wait_for_function(f"document.getElementById('video').currentTime > {HOLE[0] + 1.5}", timeout=60_000)
    wall = page.evaluate("window.wubloaderPage.player.wallTime().toISOString()")
    assert wall > f"{at(HOLE[1] + 1)}"
    # The join is shown as wall time on the other side of the hole, never inside it.
    inside = page.evaluate(f"window.wubloaderPage.player.playerTime(new Date('{at(HOLE[0] + 5)}Z'))")
    assert inside == pytest.approx(HOLE[0], abs=0.05)


def test_a_reloaded_playlist_never_moves_the_timeline(page, editor_url):
    """hls.js hands a reload the fragments it has parsed, their starts moved to the media's timestamps:
    the wall <-> video mapping keeps each fragment as first listed and only appends new ones."""
    open_window(page, editor_url, "chan", 0, 60)
    timeline = "window.wubloaderPage.player.timeline.map((f) => [f.start, f.duration, f.programDateTime])"
    before = page.evaluate(timeline)
    wall = page.evaluate("window.wubloaderPage.player.wallTime(5).toISOString()")
    page.evaluate(
        """() => {
        const p = window.wubloaderPage.player;
        const moved = p.details.fragments.map((f) => ({ sn: f.sn, start: f.start + 0.021, duration: f.duration - 0.021, programDateTime: f.programDateTime }));
        const last = moved[moved.length - 1];
        const more = { sn: last.sn + 1, start: 999, duration: 2, programDateTime: last.programDateTime + 2000 };
        p.extendTimeline(p.timelineLevel, [...moved, more]);
    }"""
    )
    after = page.evaluate(timeline)
    assert len(before) == 30 and after[:-1] == before
    assert after[-1] == [before[-1][0] + before[-1][1], 2, before[-1][2] + 2000]
    assert page.evaluate("window.wubloaderPage.player.wallTime(5).toISOString()") == wall == f"{at(5)}.000Z"


SEEKS = [
    ("l", 10), ("j", -10), ("L", 1), ("J", -1), ("ArrowRight", 5), ("ArrowLeft", -5),
    ("Shift+ArrowRight", 60), ("Shift+ArrowLeft", -60),
    (".", 1 / FPS), (">", 1 / FPS), (",", -1 / FPS), ("<", -1 / FPS),
]  # fmt: skip


def test_every_shortcut_moves_by_its_exact_amount(page, editor_url):
    open_window(page, editor_url, "chan", 0, LONG_SECONDS)
    assert page.evaluate("window.wubloaderPage.player.frameRate") == FPS
    duration = page.evaluate("window.wubloaderPage.player.duration")
    assert duration == pytest.approx(LONG_SECONDS, abs=0.1)
    page.evaluate("document.getElementById('video').currentTime = 90")
    wait_seeked_to(page, 90)
    for key, seconds in SEEKS:
        before = video_time(page)
        page.keyboard.press(key)
        wait_seeked_to(page, before + seconds, key)
        # Both readings are truncated to the media clock's microseconds.
        assert video_time(page) - before == pytest.approx(seconds, abs=2 * MEDIA_CLOCK), key
    for digit in range(10):
        page.evaluate(SEEN_DURATIONS)
        page.keyboard.press(str(digit))
        wait_seeked_to_tenths(page, digit)
    rates = []
    for key in ["Backspace", "=", "=", "-", "+", "+", "_", "Backspace"]:
        page.keyboard.press(key)
        rates.append(page.evaluate("document.getElementById('video').playbackRate"))
    assert rates == [1, 1.25, 1.5, 1.25, 2, 8, 0.25, 1]
    page.keyboard.press("m")
    assert page.evaluate("document.getElementById('video').muted") is True
    page.keyboard.press("k")
    page.wait_for_function("!document.getElementById('video').paused")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('video').paused")


def test_shortcuts_ignored_while_typing(page, editor_url):
    open_window(page, editor_url, "chan", 0, 60)
    page.evaluate("document.getElementById('video').currentTime = 30")
    wait_seeked_to(page, 30)
    page.click("#end")
    page.keyboard.press("l")
    page.keyboard.press("ArrowLeft")
    assert video_time(page) == 30


def test_share_link_and_downloads(page, editor_url, tmp_path):
    open_window(page, editor_url, "chan", 10, 30)
    share = page.get_attribute("#share-link", "href")
    assert parse_qs(urlsplit(share).query) == {
        "channel": ["chan"],
        "start": [f"{at(10)}.000"],
        "end": [f"{at(30)}.000"],
    }
    # The shared link opens the same window.
    open_window(page, editor_url, "chan", 10, 30)
    page.goto(editor_url + share)
    page.wait_for_selector("body[data-loaded=yes]")
    assert page.evaluate("window.wubloaderPage.player.wallTime(0).toISOString()") == f"{at(10)}.000Z"
    # The current frame, as the restreamer renders it, named after its wall time.
    page.evaluate("document.getElementById('video').currentTime = 4")
    wait_seeked_to(page, 4)
    with page.expect_download() as download_info:
        page.click("#download-frame")
    download = download_info.value
    assert download.suggested_filename == f"{at(14).replace(':', '-')}.000.png"
    frame = tmp_path / "frame.png"
    download.save_as(frame)
    assert frame.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The smart cut of the window has its duration within one frame.
    with page.expect_download() as download_info:
        page.click("#download-cut")
    cut = tmp_path / "cut.ts"
    download_info.value.save_as(cut)
    assert abs(probe_duration(cut) - 20.0) <= 1 / FPS
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(cut), "-f", "null", "-"], check=True, timeout=60)


def test_errors_are_shown_with_their_reason(page, editor_url):
    # A window with no video at all.
    page.goto(f"{editor_url}/watch?channel=chan&start=2020-01-01T00:00:00&end=2020-01-01T00:10:00")
    page.wait_for_selector("body[data-ready=yes]")
    assert "There is no video between the chosen start and end times." in page.inner_text("#notices")
    # Bad input in the form is refused before any request.
    page.fill("#start", "yesterday-ish")
    page.click("button[type=submit]")
    assert '"yesterday-ish" is not a valid UTC timestamp' in page.inner_text("#notices")
    page.fill("#start", at(50))
    page.fill("#end", at(40))
    page.click("button[type=submit]")
    assert "The end must be after the start." in page.inner_text("#notices")
