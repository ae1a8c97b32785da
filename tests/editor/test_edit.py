"""The events and edit pages in Chromium against a real thrimshim (SQLite) and a real restreamer."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import STORE_START
from tests.db.states import T0, put_in_state
from tests.editor.browser import save_screenshot, serious_accessibility_violations
from tests.editor.servers import migrated_sqlite, start_restreamer, start_thrimshim
from tests.harness.media import FPS, store_clip
from tests.harness.processes import stop_all
from wubloader.db import events, roles, tokens
from wubloader.db.event_records import SheetEvent
from wubloader.db.schema import EventState

pytestmark = pytest.mark.ffmpeg
BUTTONS = ["submit", "save-draft", "submit-changes", "cancel-upload", "force-reset", "manual-link-button"]
# Per state: the buttons thrimshim accepts (the rest must be disabled).
ENABLED = {
    EventState.UNEDITED: {"submit", "save-draft", "force-reset", "manual-link-button"},
    EventState.EDITED: {"submit", "save-draft", "cancel-upload", "force-reset"},
    EventState.CLAIMED: {"submit", "save-draft", "cancel-upload", "force-reset"},
    EventState.FINALIZING: {"force-reset"},
    EventState.TRANSCODING: {"force-reset"},
    EventState.DONE: {"submit-changes", "force-reset"},
    EventState.MODIFIED: {"submit-changes", "force-reset"},
}


def at(seconds: float):
    return STORE_START + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def restreamer(tmp_path_factory, clip):
    """`chan` has 60 s of video from STORE_START; `desertbus` (the db test rows' channel) around T0."""
    base = tmp_path_factory.mktemp("store")
    store_clip(base, clip, STORE_START)
    store_clip(base, clip, T0 - timedelta(seconds=30), channel="desertbus")
    component = start_restreamer(base, tmp_path_factory.mktemp("logs"))
    yield component
    stop_all([component])


@pytest.fixture
def database(tmp_path):
    database = migrated_sqlite(tmp_path / "events.sqlite")
    with database.transaction() as conn:
        events.insert_event(
            conn,
            SheetEvent(
                id="ev1", sheet_name="Tuesday", event_start=at(20), event_end=at(40),
                category="Chat", description="A chat with the driver", tags=("chat",),
            ),
        )  # fmt: skip
    yield database
    database.close()


@pytest.fixture
def thrimshim(database, restreamer, tmp_path, components):
    component = start_thrimshim(database.url, restreamer.url, tmp_path / "logs", "--no-authentication")
    components.append(component)
    return component


def api_row(thrimshim, event_id: str) -> dict:
    with urllib.request.urlopen(f"{thrimshim.url}/thrimshim/{event_id}", timeout=10) as response:
        return json.loads(response.read())


def open_edit(page, thrimshim, event_id: str = "ev1") -> None:
    page.goto(f"{thrimshim.url}/edit/{event_id}")
    page.wait_for_selector("body[data-ready=yes]")
    page.wait_for_selector("body[data-loaded=yes]")


def wait_for_notice(page, text: str) -> None:
    """Wait for a notice saying `text`; if it never comes, fail with what the page's notices said instead."""
    try:
        page.wait_for_selector(f"text={text}")
    except PlaywrightTimeoutError:
        notices = page.locator("#notices")
        said = notices.inner_text() if notices.count() else "(no notices)"
        raise AssertionError(f"no notice {text!r}; the page's notices say: {said!r}") from None


def seek(page, seconds: float) -> None:
    page.evaluate(f"document.getElementById('video').currentTime = {seconds}")
    page.wait_for_function(
        "t => { const v = document.getElementById('video'); return !v.seeking && Math.abs(v.currentTime - t) < 1e-5; }",
        arg=seconds,
    )


def wall(page) -> str:
    return page.evaluate("window.wubloaderPage.player.wallTime().toISOString()")


def test_two_ranges_with_a_fade_submitted_from_the_keyboard(thrimshim, page):
    open_edit(page, thrimshim)
    page.wait_for_selector("#waveform[data-state=drawn]")
    assert page.inner_text("#row-state") == "UNEDITED"
    marks = []
    for key, seconds in [("[", 5), ("]", 15), ("p", None), ("[", 30), ("]", 40)]:
        if seconds is not None:
            seek(page, seconds)
            marks.append(wall(page))
        page.keyboard.press(key)
    page.select_option(".range[data-index='1'] .transition-type", "fade")
    page.fill(".range[data-index='1'] .transition-duration", "1.5")
    page.fill("#video-title", "Two parts")
    page.click("#submit")
    wait_for_notice(page, "Submitted edit")
    page.wait_for_function("document.getElementById('row-state').textContent === 'EDITED'")
    row = api_row(thrimshim, "ev1")
    assert row["state"] == "EDITED"
    assert row["video_title"] == "Two parts"
    assert row["video_transitions"] == [["fade", 1.5]]
    # Each range bound is the wall time shown at the playhead when its key was pressed (ms precision).
    sent = [t for pair in row["video_ranges"] for t in pair]
    assert [t[:23] for t in sent] == [m[:23] for m in marks]
    assert abs((at(5) - at(0)).total_seconds() - 5) < 1 / FPS
    assert page.locator("#clip-bar .clip").count() == 2
    assert serious_accessibility_violations(page) == []
    save_screenshot(page, "edit-page")


@pytest.mark.parametrize("state", list(EventState))
def test_each_button_enabled_exactly_in_its_states(thrimshim, page, database, state):
    with database.transaction() as conn:
        put_in_state(conn, "row", state)
    page.goto(f"{thrimshim.url}/edit/row")
    page.wait_for_selector("body[data-ready=yes]")
    assert page.inner_text("#row-state") == state.value
    enabled = {b for b in BUTTONS if page.is_enabled(f"#{b}")}
    assert enabled == ENABLED[state]
    ranges_enabled = page.is_enabled(".range-start")
    assert ranges_enabled == (state in (EventState.UNEDITED, EventState.EDITED, EventState.CLAIMED))
    if state in (EventState.TRANSCODING, EventState.DONE, EventState.MODIFIED):
        assert page.inner_text("#row-link") == "https://v/1"


def test_server_errors_are_shown_with_their_reason(thrimshim, page, console_errors):
    console_errors.expect("status of 400")
    open_edit(page, thrimshim)
    page.fill("#video-title", "x" * 95)  # the server adds "DB2024 - ": over 100 characters
    page.evaluate("document.getElementById('video-title').removeAttribute('maxlength')")
    page.fill("#video-title", "x" * 95)
    page.click("#submit")
    wait_for_notice(page, "Title must be 100 characters or less")
    assert "400" in page.inner_text("#notices")
    # A manual link that is not a URL: the server's reason, verbatim.
    page.fill("#manual-link", "not a link")
    page.click("#manual-link-button")
    wait_for_notice(page, "link must be an http(s) URL")


def test_conflict_offers_submit_anyway(thrimshim, page, database, console_errors):
    console_errors.expect("status of 409")
    open_edit(page, thrimshim)
    page.fill("#video-title", "Mine")
    # Meanwhile the sheet changes under the editor.
    with database.transaction() as conn:
        events.upsert_sheet_events(
            conn, [SheetEvent(id="ev1", sheet_name="Tuesday", event_start=at(20), event_end=at(40),
                              category="Chat", description="Renamed on the sheet", tags=("chat",))],
        )  # fmt: skip
    page.click("#save-draft")
    page.wait_for_selector("#conflict:not([hidden])")
    assert "description" in page.inner_text("#conflict-text")
    assert page.inner_text("#override") == "Save draft anyway"
    page.click("#override")
    wait_for_notice(page, "Saved draft")
    assert api_row(thrimshim, "ev1")["video_title"] == "Mine"


def test_unsaved_changes_warn_before_leaving(thrimshim, page):
    open_edit(page, thrimshim)
    page.fill("#video-title", "Not saved")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.evaluate("document.body.click()")  # beforeunload prompts need a user gesture first
    page.click("#video-title")
    try:
        page.goto(f"{thrimshim.url}/", timeout=5000)
    except Exception:
        pass
    assert dialogs == ["beforeunload"]
    assert "/edit/ev1" in page.url


def test_events_page_updates_itself(thrimshim, page, database):
    page.goto(f"{thrimshim.url}/")
    page.wait_for_selector("body[data-ready=yes]")
    page.wait_for_selector("tr[data-id=ev1] >> text=UNEDITED")
    with database.transaction() as conn:
        put_in_state(conn, "later", EventState.DONE)
    # Without a reload: the new row appears with its state and link.
    page.wait_for_selector("tr[data-id=later] >> text=DONE")
    assert page.get_attribute("tr[data-id=later] a[href='https://v/1']", "href") == "https://v/1"
    page.select_option("#filter-state", "DONE")
    assert page.locator("tbody tr").count() == 1
    page.select_option("#filter-state", "")
    page.fill("#filter-text", "driver")
    assert [r.get_attribute("data-id") for r in page.locator("tbody tr").all()] == ["ev1"]
    assert serious_accessibility_violations(page) == []
    save_screenshot(page, "events-page")


def test_token_sign_in_is_kept_and_used(database, restreamer, tmp_path, components, page, console_errors):
    console_errors.expect("status of 401")
    with database.transaction() as conn:
        roles.put_role(conn, roles.RoleRow(email="ed@example.org", name="ed", editor=True))
        token, _ = tokens.add_token(conn, "ed@example.org", now=at(0))
    thrimshim = start_thrimshim(database.url, restreamer.url, tmp_path / "logs")
    components.append(thrimshim)
    open_edit(page, thrimshim)
    page.select_option("#thumbnail-mode", "BARE")
    page.click("#save-draft")
    wait_for_notice(page, "Unauthorized. Did you remember to sign in?")
    page.fill("#token-input", token)
    page.click("#sign-in")
    # Kept in the browser: a reload is still signed in, and the save goes through as that editor.
    open_edit(page, thrimshim)
    assert page.is_visible("#sign-out")
    page.fill("#video-title", "Signed")
    page.click("#save-draft")
    wait_for_notice(page, "Saved draft")
    assert api_row(thrimshim, "ev1")["editor"] == "ed@example.org"
    assert not page.is_visible("#oidc-sign-in")


def test_oidc_button_only_with_an_issuer(database, restreamer, tmp_path, components, page):
    args = ("--oidc-issuer", "https://issuer.example", "--oidc-audience", "editor-client")
    thrimshim = start_thrimshim(database.url, restreamer.url, tmp_path / "logs", *args)
    components.append(thrimshim)
    page.goto(f"{thrimshim.url}/")
    page.wait_for_selector("body[data-ready=yes]")
    assert page.inner_text("#oidc-sign-in") == "Sign in with your identity provider"
    assert page.is_visible("#token-input")


def test_join_preview_plays_that_join(thrimshim, page, tmp_path):
    open_edit(page, thrimshim)
    for key, seconds in [("[", 4), ("]", 20), ("p", None), ("[", 30), ("]", 50)]:
        if seconds is not None:
            seek(page, seconds)
        page.keyboard.press(key)
    page.select_option(".range[data-index='1'] .transition-type", "fade")
    page.click(".range[data-index='1'] button:has-text('Preview')")
    page.wait_for_selector("#preview-dialog[open]")
    src = page.get_attribute("#preview-video", "src")
    assert "type=webm" in src and "transition=fade%2C1" in src
    # It plays in the page; the same cut is 6 s of each side (transition + 5 s) overlapped by the 1 s fade.
    page.wait_for_function("document.getElementById('preview-video').currentTime > 0.5", timeout=120_000)
    preview = tmp_path / "preview.webm"
    with urllib.request.urlopen(src, timeout=120) as response:
        preview.write_bytes(response.read())
    # Streamed WebM carries no duration: count its video frames instead (within one frame).
    frames = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
         "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(preview)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    assert abs(int(frames) - 11 * FPS) <= 1
    page.click("#preview-close")
    assert not page.is_visible("#preview-dialog")


def test_missing_event_is_reported(thrimshim, page, console_errors):
    console_errors.expect("status of 404")
    page.goto(f"{thrimshim.url}/edit/nope")
    page.wait_for_selector("body[data-ready=failed]")
    assert "Could not load event nope: 404: Row id = nope not found" in page.inner_text("#notices")


def test_new_event_for_an_unplanned_video(thrimshim, page):
    page.goto(f"{thrimshim.url}/")
    page.wait_for_selector("body[data-ready=yes]")
    page.click("#new-event summary")
    page.fill("#new-id", "extra1")
    page.fill("#new-start", f"{at(10):%Y-%m-%dT%H:%M:%S}")
    page.fill("#new-end", f"{at(50):%Y-%m-%dT%H:%M:%S}")
    page.fill("#new-description", "Unplanned moment")
    page.click("#new-event-form button[type=submit]")
    wait_for_notice(page, "Created event extra1")
    page.wait_for_selector("tr[data-id=extra1] >> text=UNEDITED")
    row = api_row(thrimshim, "extra1")
    assert (row["sheet_name"], row["description"], row["event_start"]) == (
        "manual",
        "Unplanned moment",
        f"{at(10):%Y-%m-%dT%H:%M:%S}.000000",
    )


def test_chapters_written_in_output_time_and_read_back(thrimshim, page):
    open_edit(page, thrimshim)
    for key, seconds in [("[", 5), ("]", 15), ("p", None), ("[", 30), ("]", 40)]:
        if seconds is not None:
            seek(page, seconds)
        page.keyboard.press(key)
    page.select_option(".range[data-index='1'] .transition-type", "fade")
    page.select_option("#thumbnail-mode", "BARE")
    for seconds, title in [(5, "Intro"), (35, "Second")]:
        seek(page, seconds)
        page.click("#add-chapter")
        page.locator(".chapter-title").last.fill(title)
    page.fill("#video-title", "With chapters")
    page.click("#save-draft")
    wait_for_notice(page, "Saved draft")
    # 35 s is 5 s into range 2, which starts 10 s (range 1) - 1 s (the fade) into the video.
    assert api_row(thrimshim, "ev1")["video_description"] == (
        "A chat with the driver\n==========\n0:00 - Intro\n0:14 - Second"
    )
    open_edit(page, thrimshim)
    assert page.input_value("#video-description") == "A chat with the driver"
    assert [t.input_value() for t in page.locator(".chapter-title").all()] == ["Intro", "Second"]
    assert page.is_checked("#chapters-on")
    assert serious_accessibility_violations(page) == []
