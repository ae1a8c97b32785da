"""Proves runtime/logsetup.py: level selection, one-line UTC format, idempotent setup."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.logsetup import ConsoleHandler, RepeatFilter, parse_log_level, setup_logging

LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\w+) +([\w.]+): (.*)")


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def test_one_line_format_with_level_and_logger(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("info")
    logging.getLogger("wubloader.test").info("hello %s", "world")
    logging.getLogger("wubloader.test").debug("hidden")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    match = LINE.fullmatch(lines[0])
    assert match is not None, lines
    assert match.groups() == ("INFO", "wubloader.test", "hello world")


def test_level_from_env_and_argument_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WUBLOADER_LOG_LEVEL", "warning")
    setup_logging()
    assert logging.getLogger().level == logging.WARNING
    setup_logging("DEBUG")
    assert logging.getLogger().level == logging.DEBUG
    monkeypatch.delenv("WUBLOADER_LOG_LEVEL")
    setup_logging()
    assert logging.getLogger().level == logging.INFO


def test_second_call_replaces_only_its_own_handler() -> None:
    setup_logging()
    setup_logging()
    ours = [h for h in logging.getLogger().handlers if isinstance(h, ConsoleHandler)]
    assert len(ours) == 1


def test_bad_level() -> None:
    assert parse_log_level("warn") == "WARNING"
    with pytest.raises(RuntimeConfigError, match="LOUD"):
        setup_logging("LOUD")


def _record(msg: str, level: int = logging.ERROR, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord("some.logger", level, __file__, 1, msg, ("x",), exc_info)


def test_repeated_errors_are_rate_limited_and_the_next_one_counts_the_dropped() -> None:
    now = [0.0]
    repeat = RepeatFilter(burst=3, interval=10.0, clock=lambda: now[0])
    passed = [
        repeat.filter(_record("accept failed: %s", exc=OSError(24, "Too many open files")))
        for _ in range(1000)
    ]
    assert passed.count(True) == 3
    assert repeat.filter(_record("another kind: %s"))  # other messages have their own budget
    assert repeat.filter(_record("accept failed: %s", exc=ValueError()))  # so do other exception types
    assert all(repeat.filter(_record("chatty: %s", level=logging.INFO)) for _ in range(100))
    now[0] = 10.0
    record = _record("accept failed: %s", exc=OSError(24, "Too many open files"))
    assert repeat.filter(record)
    assert record.getMessage() == "accept failed: x [997 more like this suppressed]"
