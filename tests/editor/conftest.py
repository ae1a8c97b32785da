"""Fixtures for the editor's browser tests: one Chromium per session, a checked page per test, and the
editor served over real HTTP next to a real restreamer process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.editor.browser import CHROMIUM, CHROMIUM_ARGS, ConsoleErrors, save_screenshot
from tests.harness.threaded_app import ThreadedApp
from wubloader.editor.routes import EditorConfig, add_editor_routes


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (which must never download a browser of its own).

    Module scope: Playwright's sync API keeps an event loop running while it is open, which would
    break the asyncio tests of later modules.
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser: Browser, console_errors: ConsoleErrors, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page; at the end a screenshot is kept and any unexpected console error fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    console_errors.attach(page)
    yield page
    save_screenshot(page, request.node.name)
    context.close()
    unexpected = console_errors.unexpected()
    assert not unexpected, "console errors:\n" + "\n".join(unexpected)


@pytest.fixture
def serve_editor() -> Iterator[object]:
    """`serve_editor(EditorConfig(...))` → base URL of the editor served over real HTTP on 127.0.0.1."""
    apps: list[ThreadedApp] = []

    def serve(config: EditorConfig) -> str:
        from aiohttp import web

        app = web.Application()
        add_editor_routes(app, config)
        threaded = ThreadedApp()
        threaded.start(app)
        apps.append(threaded)
        return threaded.url

    yield serve
    for threaded in apps:
        threaded.stop()
