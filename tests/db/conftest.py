"""A migrated database per test, on both engines."""

import pytest

from wubloader.db.database import Database


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    db.upgrade()
    yield db
    db.close()
