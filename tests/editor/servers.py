"""Real processes behind the editor's page tests: a restreamer over real media and a thrimshim over a
migrated SQLite database, serving the editor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.harness.processes import Component, free_port, start_component
from wubloader.db.database import Database

if TYPE_CHECKING:
    from pathlib import Path


def start_restreamer(base: Path, log_dir: Path) -> Component:
    port = free_port()
    return start_component(["restreamer", "--base-dir", str(base), "--port", str(port)], log_dir, port=port)


def migrated_sqlite(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    return database


def start_thrimshim(db_url: str, restreamer_url: str, log_dir: Path, *extra: str) -> Component:
    """`wubloader thrimshim` serving the editor, playing from `restreamer_url`."""
    port = free_port()
    args = [
        "thrimshim", "--db", db_url, "--port", str(port), "--restreamer-url", restreamer_url,
        "--upload-locations", "local,youtube", "--default-channel", "chan", "--title-header", "DB2024",
        "--bustime-start", "2024-05-01T09:00:00", *extra,
    ]  # fmt: skip
    return start_component(args, log_dir, port=port)
