"""Thumbnails published by a real cutter: a template composition, and a too-big custom image refused."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import Image

from tests.conftest import STORE_START
from tests.cutter.jobs import column, edit_for, row, start_cutter, submit, write_locations
from tests.thumbnails.templates import add_test_template
from wubloader.db.schema import EventState, ThumbnailMode
from wubloader.thumbnails.compose import thumbnail_hash

pytestmark = [pytest.mark.ffmpeg, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def run_once(tmp_path, store, db_url, locations) -> int:
    cutter = start_cutter(tmp_path, store, db_url, locations, "--once")
    return cutter.process.wait(timeout=200)


@pytest.mark.timeout(300)
def test_template_thumbnail_written_and_hashed(tmp_path, store, database, db_url):
    add_test_template(database)
    out = tmp_path / "out"
    locations = write_locations(tmp_path, {"local": {"type": "local", "cut_type": "fast", "path": str(out)}})
    edit = edit_for(
        STORE_START, [(2, 9)], thumbnail=ThumbnailMode.TEMPLATE, thumbnail_at=4.2, template="green"
    )
    submit(database, "ev", edit)
    assert run_once(tmp_path, store, db_url, locations) == 0
    event = row(database, "ev")
    assert event.state is EventState.DONE, event.error
    png = (out / f"{event.video_id}.png").read_bytes()
    assert Image.open(io.BytesIO(png)).size == (128, 72)
    assert column(database, "ev", "thumbnail_last_written") == thumbnail_hash(png)
    assert column(database, "ev", "thumbnail_image") == png  # cached for later updates


@pytest.mark.timeout(300)
def test_custom_thumbnail_over_2_mib_is_refused(tmp_path, store, database, db_url):
    out = tmp_path / "out"
    locations = write_locations(tmp_path, {"local": {"type": "local", "cut_type": "smart", "path": str(out)}})
    huge = dataclasses.replace(
        edit_for(STORE_START, [(2, 9)]),
        thumbnail_mode=ThumbnailMode.CUSTOM,
        thumbnail_image=b"\x89PNG" + bytes(3 << 20),
    )
    submit(database, "ev", huge)
    assert run_once(tmp_path, store, db_url, locations) == 1
    event = row(database, "ev")
    assert event.state is EventState.UNEDITED
    assert "Thumbnail is too big (3.0MB, max 2MB)" in event.error
    assert not out.exists() or not list(out.glob("*.ts"))
