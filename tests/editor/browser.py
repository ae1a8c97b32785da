"""Playwright on Debian's Chromium for the editor's tests: launch flags, console errors, screenshots, axe."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WUBLOADER_CHROMIUM", "/usr/bin/chromium")
# Running as root needs --no-sandbox; the rest keep Chromium from reaching out to the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
]
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT_DIR = Path(os.environ.get("WUBLOADER_TEST_OUTPUT", REPO / "test-output")) / "editor"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@dataclass
class ConsoleErrors:
    """Every console error and uncaught exception of a page; a test fails if any was not expected."""

    seen: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.seen.append(f"uncaught: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.seen.append(f"console: {message.text} ({message.location.get('url', '')})")

    def expect(self, pattern: str) -> None:
        """Allow errors matching `pattern` (e.g. the browser's log line for a 4xx a test provokes)."""
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [text for text in self.seen if not any(p.search(text) for p in self.expected)]


def save_screenshot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact under OUTPUT_DIR."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate("async () => await window.axe.run(document)")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING_IMPACTS:
            targets = [json.dumps(node["target"]) for node in violation["nodes"][:3]]
            lines.append(
                f"{violation['impact']}: {violation['id']} — {violation['help']} at {', '.join(targets)}"
            )
    return lines
