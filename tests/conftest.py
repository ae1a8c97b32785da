"""Session-wide fixtures: real encoded media (cached per session), stores built from it, real databases."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.harness.media import Clip, encode_clip
from tests.harness.postgres import PostgresServer, start_postgres
from tests.harness.processes import Component, stop_all
from wubloader.db.database import Database

# A fixed, hour-aligned start for stores, so hour-boundary cases are deliberate.
STORE_START = datetime(2024, 5, 1, 10, 0, 0)


def _seed_line(config: pytest.Config) -> str | None:
    """pytest-randomly's seed as the option that replays this order (None when the plugin is off)."""
    seed = getattr(config.option, "randomly_seed", None)
    if not isinstance(seed, int) or not config.pluginmanager.hasplugin("randomly"):
        return None
    return f"random order: reproduce with -p randomly --randomly-seed={seed}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Print the seed even under -q (pytest-randomly's own header line is hidden then)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = _seed_line(session.config)
    if reporter is not None and line is not None and session.config.option.verbose < 0:
        reporter.write_line(line)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Repeat the seed after a failed run: the start of a long run's output has often scrolled away."""
    line = _seed_line(config)
    if line is not None and exitstatus != 0:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Clip:
    """60 s, 2 s segments, H.264 without B-frames + AAC."""
    return encode_clip(tmp_path_factory.mktemp("clip"), 60)


@pytest.fixture(scope="session")
def clip_bframes(tmp_path_factory) -> Clip:
    """60 s, 2 s segments, H.264 with B-frames (DTS ≠ PTS) + AAC."""
    return encode_clip(tmp_path_factory.mktemp("clip_bframes"), 60, bframes=True)


@pytest.fixture(scope="session")
def clip_fmp4(tmp_path_factory) -> Clip:
    """20 s fMP4 segments; every segment has the init section prepended, as stored."""
    return encode_clip(tmp_path_factory.mktemp("clip_fmp4"), 20, fmp4=True)


@pytest.fixture(scope="session")
def clip_hevc(tmp_path_factory) -> Clip:
    """12 s, 2 s segments, HEVC + AAC (an enhanced-broadcast source rendition)."""
    return encode_clip(tmp_path_factory.mktemp("clip_hevc"), 12, video_codec="libx265")


@pytest.fixture
def components():
    """Collects started components and SIGKILLs any left running at the end of the test."""
    started: list[Component] = []
    yield started
    stop_all(started)


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session (see tests/harness/postgres.py)."""
    server: PostgresServer = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """URL of a fresh, empty database for this test, once per engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wubloader.sqlite'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_schema()
    yield url
    server.drop_schema(url)


@pytest.fixture
def database(db_url):
    """A `Database` over `db_url`, migrated to the current schema (once per engine)."""
    db = Database(db_url)
    db.upgrade()
    yield db
    db.close()
