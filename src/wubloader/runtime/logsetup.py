"""Process-wide logging setup: one line per record, UTC timestamps, level from argument or env."""

from __future__ import annotations

import logging
import os
import sys
import time

from wubloader.runtime.errors import RuntimeConfigError

LOG_LEVEL_ENV = "WUBLOADER_LOG_LEVEL"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


class UtcFormatter(logging.Formatter):
    """Formats times as `2024-01-02T03:04:05.678Z` so logs from nodes on different continents line up."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler setup_logging installs; its own class so a second call replaces only it."""


def parse_log_level(text: str) -> str:
    """Return the canonical level name for `text` (case-insensitive); raise RuntimeConfigError otherwise."""
    name = text.strip().upper()
    if name == "WARN":
        name = "WARNING"
    if name not in LOG_LEVELS:
        raise RuntimeConfigError(f"unknown log level {text!r}: expected one of {', '.join(LOG_LEVELS)}")
    return name


def setup_logging(level: str | None = None) -> None:
    """Configure the root logger to write one line per record to stderr.

    `level` wins over the `WUBLOADER_LOG_LEVEL` environment variable; the default is INFO.
    Replaces only the handler an earlier call installed, so calling it twice is safe and handlers
    added by others (pytest's caplog) survive.
    Raises RuntimeConfigError for an unknown level name.
    """
    chosen = parse_log_level(level or os.environ.get(LOG_LEVEL_ENV) or "INFO")
    handler = ConsoleHandler(sys.stderr)
    handler.setFormatter(UtcFormatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ConsoleHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(chosen)
    # warnings.warn() output (deprecations from libraries) then gets the same one-line format.
    logging.captureWarnings(True)
    # One line per HTTP request (every playlist poll, every segment) would drown the log of a busy node;
    # request counts and latencies are in the metrics. DEBUG brings them back.
    logging.getLogger("aiohttp.access").setLevel(logging.DEBUG if chosen == "DEBUG" else logging.WARNING)
