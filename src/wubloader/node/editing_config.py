"""What the editing side of a node runs (see editing.py); light, so a node without it imports nothing heavy.

With `--demo` everything lives in `<base-dir>/.wubloader/` (hidden from the store's listings): an
SQLite database created and upgraded at start-up and a `local` location writing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from wubloader.cutter.locations import Location
    from wubloader.runtime.config import HttpConfig

DEMO_DIR = ".wubloader"
DEMO_LOCATION = "local"
VIDEOS_ROUTE = "/videos/"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoEvents:
    """Where demo events come from: the archived `channel`/`quality`; the first once `min_window` s are
    archived, then one every `interval` s, each the newest hole-free stretch of at most `window` s."""

    channel: str
    quality: str
    interval: float = 300.0
    window: float = 120.0
    min_window: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EditingConfig:
    """`db_url` (upgraded at start-up when `upgrade`), `locations` for the cutter (none = no cutter),
    `videos` (a directory served at /videos/), `demo_events` (None = no demo events)."""

    db_url: str
    http: HttpConfig
    upgrade: bool = False
    locations: dict[str, Location] | None = None
    videos: Path | None = None
    demo_events: DemoEvents | None = None
    authentication: bool = True
    drain_timeout: float = 20.0
    # Claims are made in this name: two cutters sharing one would each take the other's jobs for its own.
    cutter_name: str = "cutter"
    creds: Path | None = None  # Google OAuth credentials for youtube locations


def demo_local_location(base: Path, http: HttpConfig) -> dict[str, object]:
    """The locations-file entry of a `local` location writing into the base dir, linked via /videos/."""
    prefix = f"http://{http.host}:{http.port}{VIDEOS_ROUTE}"
    return {"type": "local", "cut_type": "smart", "path": str(demo_videos(base)), "url_prefix": prefix}


def demo_videos(base: Path) -> Path:
    return base / DEMO_DIR / "videos"


def demo_db_url(base: Path) -> str:
    return f"sqlite:///{base / DEMO_DIR / 'events.sqlite'}"
