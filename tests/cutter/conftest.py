"""A migrated database per test (both engines) and a 60 s store of real media."""

import pytest

from tests.conftest import STORE_START
from tests.harness.media import store_clip
from wubloader.db.database import Database


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    db.upgrade()
    yield db
    db.close()


@pytest.fixture
def store(tmp_path, clip):
    """60 s of chan/source from STORE_START."""
    base = tmp_path / "store"
    store_clip(base, clip, STORE_START)
    return base
