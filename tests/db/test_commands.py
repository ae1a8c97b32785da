"""`wubloader db|events|token` on both engines: exit codes, one-line errors, all-or-nothing import."""

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from wubloader.cli import main
from wubloader.db import events, roles, tokens
from wubloader.db.database import Database

CSV = """id,sheet_name,event_start,event_end,category,description,notes,tags
a1,Tuesday,2024-11-10T03:04:05Z,--,Chat,First,,"x, y"
a2,Tuesday,2024-11-10T04:00:00+01:00,2024-11-10T04:30:00,Game,"Second, with comma",note,
"""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def upgraded(db_url, capsys):
    assert run(capsys, "db", "upgrade", "--db", db_url)[0] == 0
    return Database(db_url)


def test_status_then_upgrade(db_url, capsys):
    code, out, _ = run(capsys, "db", "status", "--db", db_url)
    assert (code, out) == (1, "revision: none (empty database); head: 2; run `wubloader db upgrade`\n")
    code, out, _ = run(capsys, "db", "upgrade", "--db", db_url)
    assert code == 0 and out.splitlines()[-1] == "revision: 2 (current)"
    assert run(capsys, "db", "upgrade", "--db", db_url)[1] == "already current: revision: 2 (current)\n"
    assert run(capsys, "db", "status", "--db", db_url)[:2] == (0, "revision: 2 (current)\n")


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "not a url", "sqlite:///:memory:"])
def test_bad_urls_exit_2_with_one_line(capsys, url):
    code, out, err = run(capsys, "db", "status", "--db", url)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "sqlite:///PATH" in err


def test_import_csv_upserts_sheet_columns_only(db_url, capsys, tmp_path):
    database = upgraded(db_url, capsys)
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    code, out, err = run(capsys, "events", "import", "--db", db_url, str(path))
    assert (code, out, err) == (0, f"imported 2 events from {path}: 2 new, 0 updated\n", "")
    with database.transaction() as conn:
        a1, a2 = events.get_event(conn, "a1"), events.get_event(conn, "a2")
    assert a1.sheet.event_end_dashed and a1.sheet.event_end == a1.sheet.event_start == datetime(
        2024, 11, 10, 3, 4, 5
    )
    assert a1.sheet.tags == ("x", "y")
    assert (a2.sheet.event_start, a2.sheet.description, a2.sheet.notes) == (
        datetime(2024, 11, 10, 3, 0),
        "Second, with comma",
        "note",
    )
    lines = tmp_path / "events.jsonl"
    lines.write_text(
        json.dumps({"id": "a1", "sheet_name": "Wed", "tags": ["z"]})
        + "\n\n"
        + json.dumps({"id": "a3", "sheet_name": "Wed"})
        + "\n"
    )
    assert run(capsys, "events", "import", "--db", db_url, str(lines))[1].endswith("1 new, 1 updated\n")
    with database.transaction() as conn:
        a1 = events.get_event(conn, "a1")
    assert (a1.sheet.sheet_name, a1.sheet.tags, a1.row_version) == ("Wed", ("z",), 2)
    database.close()


BAD_FILES = [
    ("bad.csv", CSV + "a3,,2024-01-01T00:00:00,,,,,\n", "line 4: sheet_name is required"),
    ("bad.csv", CSV + "a1,Tuesday,,,,,,\n", "line 4: duplicate id 'a1'"),
    ("bad.csv", CSV.replace("2024-11-10T03:04:05Z", "yesterday"), "line 2: event_start: bad timestamp"),
    ("bad.csv", CSV + "a4,Tuesday\n", "line 4: expected 8 cells, found 2"),
    ("bad.csv", "id,sheet_name,colour\nb1,s,red\n", "line 2: unknown column(s): colour"),
    ("bad.jsonl", '{"id": "j1", "sheet_name": "s"}\n{"id": "j2", \n', "line 2: not valid JSON"),
    ("bad.jsonl", '{"id": "j1", "sheet_name": "s"}\n[1, 2]\n', "line 2: expected a JSON object"),
    ("bad.jsonl", '{"id": "j1", "sheet_name": "s", "tags": [1]}\n', "line 1: tags must be a list of strings"),
    ("bad.jsonl", '{"id": 5, "sheet_name": "s"}\n', "line 1: id must be a string"),
    (
        "bad.jsonl",
        '{"id": "n", "sheet_name": "s", "notes": "a\\u0000b"}\n',
        "line 1: notes contains a NUL character",
    ),
]


@pytest.mark.parametrize(("name", "content", "reason"), BAD_FILES)
def test_bad_import_names_the_line_and_imports_nothing(db_url, capsys, tmp_path, name, content, reason):
    database = upgraded(db_url, capsys)
    path = tmp_path / name
    path.write_text(content)
    code, out, err = run(capsys, "events", "import", "--db", db_url, str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"wubloader events import: {reason}") and len(err.splitlines()) == 1
    with database.transaction() as conn:
        assert events.list_events(conn) == []
    database.close()


def test_tokens_are_printed_once_and_stored_hashed(db_url, capsys):
    database = upgraded(db_url, capsys)
    code, token, _ = run(capsys, "token", "add", "Ed@Example.org", "--name", "Ed", "--editor", "--db", db_url)
    token = token.strip()
    assert code == 0 and token.startswith("wub_") and len(token) > 40
    with database.transaction() as conn:
        assert tokens.email_for_token(conn, token) == "ed@example.org"
        assert roles.get_role(conn, "ED@example.org") == roles.RoleRow(
            email="ed@example.org", name="Ed", editor=True
        )
        stored = conn.exec_driver_sql("SELECT token_hash FROM editor_tokens").scalar()
    assert token not in stored and stored == tokens.hash_token(token)
    code, listing, _ = run(capsys, "token", "list", "--db", db_url)
    assert code == 0 and listing.startswith("1\ted@example.org\tcreated ") and listing.endswith("\tlive\n")
    assert token not in listing
    assert run(capsys, "token", "revoke", "1", "--db", db_url)[:2] == (0, "revoked token 1\n")
    assert run(capsys, "token", "revoke", "1", "--db", db_url)[0] == 1
    with database.transaction() as conn:
        assert tokens.email_for_token(conn, token) is None
    assert run(capsys, "token", "add", "not-an-email", "--db", db_url)[0] == 2
    database.close()


def test_commands_refuse_an_unmigrated_database_and_read_wubloader_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    env = {**os.environ, "WUBLOADER_DB": url}
    result = subprocess.run(
        [sys.executable, "-m", "wubloader", "token", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip().endswith("run `wubloader db upgrade`)") and len(result.stderr.splitlines()) == 1
    )
    result = subprocess.run(
        [sys.executable, "-m", "wubloader", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.endswith("revision: 2 (current)\n")
