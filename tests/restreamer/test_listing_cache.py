"""HourListingCache: cached while the directory is unchanged and settled, bounded, never stale."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta

import pytest

from tests.conftest import STORE_START
from tests.harness.store_builder import build_store
from wubloader.cli import build_parser
from wubloader.restreamer.app import config_from_args, create_app
from wubloader.restreamer.listing_cache import HourListingCache
from wubloader.restreamer.state import STATE
from wubloader.store import create_tombstone


async def test_changes_are_seen_and_settled_dirs_cached(tmp_path):
    paths = build_store(tmp_path, STORE_START, 3)
    hour_dir = paths[0].parent
    clock = {"now": time.time()}
    cache = HourListingCache(now=lambda: clock["now"])
    assert json.loads((await cache.listing(hour_dir, False)).body) == [p.name for p in paths]
    assert len(cache) == 0  # modified just now: not trusted yet
    create_tombstone(paths[1])
    assert json.loads((await cache.listing(hour_dir, False)).body) == [paths[0].name, paths[2].name]
    clock["now"] += 10
    first = (await cache.listing(hour_dir, True)).body
    assert len(cache) == 1 and (await cache.listing(hour_dir, True)).body is first
    # A later change moves the mtime, which invalidates the entry.
    paths[2].unlink()
    later = os.stat(hour_dir).st_mtime_ns + 1_000_000_000
    os.utime(hour_dir, ns=(later, later))
    clock["now"] = later / 1e9 + 10
    assert json.loads((await cache.listing(hour_dir, False)).body) == [paths[0].name]


async def test_bounded_in_bytes_and_missing_dirs(tmp_path):
    for hour in range(5):  # five hours of 300 segments: ~26 kB of JSON each
        build_store(tmp_path, STORE_START + timedelta(hours=hour), 300, duration=12.0)
    hour_dirs = sorted((tmp_path / "chan/source").iterdir())
    cache = HourListingCache(max_bytes=60_000, now=lambda: time.time() + 100)
    for path in hour_dirs:
        await cache.listing(path, False)
    assert len(cache) == 2 and cache._entries.bytes <= 60_000
    assert (str(hour_dirs[-1]), False) in cache._entries and (str(hour_dirs[0]), False) not in cache._entries
    assert (await cache.listing(tmp_path / "missing", False)).body == b"[]"


@pytest.mark.parametrize("command", ["restreamer", "node"])
def test_cache_budgets_come_from_the_command_line(tmp_path, command):
    budgets = [
        "--index-cache-mb",
        "1.5",
        "--files-cache-mb",
        "2",
        "--playlist-cache-mb",
        "3",
        "--paths-cache-mb",
        "0.5",
    ]
    args = build_parser(command).parse_args([command, "--base-dir", str(tmp_path), *budgets])
    config = config_from_args(args)
    assert config.index_cache_bytes == 1536 * 1024 and config.files_cache_bytes == 2 * 1024 * 1024
    app = create_app(config)
    state = app[STATE]
    assert state.index._cache.max_bytes == 1536 * 1024
    assert state.entries.max_bytes == 3 * 1024 * 1024 and state.resolver.max_path_bytes == 512 * 1024
    defaults = config_from_args(build_parser(command).parse_args([command, "--base-dir", str(tmp_path)]))
    assert (defaults.playlist_cache_bytes, defaults.paths_cache_bytes) == (24 << 20, 16 << 20)


def test_a_negative_cache_budget_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser("restreamer").parse_args(
            ["restreamer", "--base-dir", str(tmp_path), "--index-cache-mb", "-1"]
        )
    assert exit_info.value.code == 2 and "non-negative" in capsys.readouterr().err
