"""store/extras.py: coverage map names and lookups never follow symlinks or reveal hidden files."""

import os

import pytest

from wubloader.store.errors import UnsafePath
from wubloader.store.extras import coverage_map_name, coverage_map_path, list_coverage_maps


def test_maps_are_listed_and_found(tmp_path):
    maps = tmp_path / "coverage-maps"
    maps.mkdir()
    (maps / coverage_map_name("chan", "source")).write_bytes(b"png")
    (maps / ".chan_source_coverage.png.123.temp").write_bytes(b"")
    (maps / "notes.txt").write_bytes(b"")
    assert list_coverage_maps(tmp_path) == ["chan_source_coverage.png"]
    assert coverage_map_path(tmp_path, "chan_source_coverage.png") == maps / "chan_source_coverage.png"
    assert coverage_map_path(tmp_path, "notes.txt") is None
    assert coverage_map_path(tmp_path, "other_source_coverage.png") is None
    with pytest.raises(UnsafePath):
        coverage_map_path(tmp_path, "../x_coverage.png")


def test_symlinks_are_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a_b_coverage.png").write_bytes(b"secret")
    base = tmp_path / "base"
    base.mkdir()
    os.symlink(outside, base / "coverage-maps")
    assert list_coverage_maps(base) == []
    assert coverage_map_path(base, "a_b_coverage.png") is None
    other = tmp_path / "other"
    (other / "coverage-maps").mkdir(parents=True)
    os.symlink(outside / "a_b_coverage.png", other / "coverage-maps" / "a_b_coverage.png")
    assert list_coverage_maps(other) == []
    assert coverage_map_path(other, "a_b_coverage.png") is None
