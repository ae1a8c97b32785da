"""`wubloader cutter` start-up: bad configuration is one clear line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from wubloader.db.database import Database


def run_cutter(
    tmp_path, locations: object, *extra: str, db: str | None = None
) -> subprocess.CompletedProcess:
    path = tmp_path / "locations.json"
    path.write_text(locations if isinstance(locations, str) else json.dumps(locations))
    if db is None:
        db = f"sqlite:///{tmp_path / 'db.sqlite'}"
        Database(db).upgrade()
    args = [
        "cutter",
        "--base-dir",
        str(tmp_path / "store"),
        "--db",
        db,
        "--locations",
        str(path),
        "--once",
        *extra,
    ]
    return subprocess.run(
        [sys.executable, "-m", "wubloader", *args], capture_output=True, text=True, timeout=60
    )


LOCAL = {"l": {"type": "local", "path": "/tmp/x"}}


@pytest.mark.parametrize(
    "locations, extra, message",
    [
        ({"l": {"type": "s3"}}, (), "'type' must be one of"),
        ({"l": {"type": "local", "path": "/x", "bogus": 1}}, (), "unknown key 'bogus'"),
        ({"y": {"type": "youtube"}}, (), "a youtube location needs --creds"),
        ({"y": {"type": "youtube"}}, ("--creds", "/nonexistent.json"), "cannot read JSON"),
        (LOCAL, ("--jobs", "0"), "--jobs must be at least 1"),
        ("{", (), "not valid JSON"),
    ],
)
def test_bad_configuration_exits_2(tmp_path, locations, extra, message):
    result = run_cutter(tmp_path, locations, *extra)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_local_only_needs_no_creds_and_once_with_nothing_to_do_succeeds(tmp_path):
    result = run_cutter(tmp_path, {"l": {"type": "local", "path": str(tmp_path / "out")}})
    assert result.returncode == 0, result.stderr


def test_outdated_schema_is_a_start_up_error(tmp_path):
    result = run_cutter(tmp_path, LOCAL, db=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert result.returncode == 2, result.stderr
    assert "wubloader db upgrade" in result.stderr and "Traceback" not in result.stderr
