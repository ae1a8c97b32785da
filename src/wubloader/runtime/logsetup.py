"""Process-wide logging setup: one line per record, UTC timestamps, level from argument or env."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.runtime.errors import RuntimeConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

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


@dataclass(slots=True)
class _Window:
    start: float
    passed: int = 1
    dropped: int = 0


class RepeatFilter(logging.Filter):
    """Lets at most `burst` warnings/errors of one kind through per `interval` seconds.

    A kind is (logger, level, message template, exception type), so a failure repeated by every
    request or every accept (running out of file descriptors wrote ~5,000 tracebacks a second)
    costs a few lines per interval; the first record let through afterwards says how many were
    dropped. INFO and below pass untouched. At most `max_kinds` kinds are tracked (then reset).
    """

    def __init__(
        self,
        *,
        burst: int = 5,
        interval: float = 10.0,
        max_kinds: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self.max_kinds = max_kinds
        self._clock = clock
        self._windows: dict[tuple[str, int, str, str], _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        exc_type = record.exc_info[0] if record.exc_info else None
        key = (record.name, record.levelno, str(record.msg), exc_type.__name__ if exc_type else "")
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now - window.start < self.interval:
                if window.passed < self.burst:
                    window.passed += 1
                    return True
                window.dropped += 1
                return False
            if len(self._windows) >= self.max_kinds:
                self._windows.clear()
            self._windows[key] = _Window(start=now)
        if window is not None and window.dropped:
            # No '%' in the suffix: the message is still formatted with the record's args.
            record.msg = f"{record.msg} [{window.dropped} more like this suppressed]"
        return True


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
    added by others (pytest's caplog) survive. Repeated warnings and errors are rate-limited
    (RepeatFilter).
    Raises RuntimeConfigError for an unknown level name.
    """
    chosen = parse_log_level(level or os.environ.get(LOG_LEVEL_ENV) or "INFO")
    handler = ConsoleHandler(sys.stderr)
    handler.setFormatter(UtcFormatter(LOG_FORMAT))
    handler.addFilter(RepeatFilter())
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
