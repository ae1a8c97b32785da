"""`wubloader events import --db URL FILE`: add or update events from CSV or JSON lines, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.db import events
from wubloader.db.cli_common import add_db_argument, run_with_database
from wubloader.db.event_import import COLUMNS, parse_events_file

if TYPE_CHECKING:
    import argparse

    from wubloader.db.database import Database
    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    actions = parser.add_subparsers(dest="events_action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    text = "upsert events by id from CSV (with a header) or JSON lines; sheet columns only"
    sub = actions.add_parser("import", help=text, description=text)
    add_db_argument(sub)
    sub.add_argument("file", type=Path, metavar="FILE", help=f"columns: {', '.join(COLUMNS)}")


def run(args: argparse.Namespace) -> int:
    def action(database: Database) -> int:
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {args.file}: {exc}") from None
        rows = parse_events_file(text, json_lines=True if args.file.suffix in (".jsonl", ".json") else None)
        database.require_current()
        inserted, updated = database.call(events.upsert_sheet_events, rows, fields=COLUMNS)
        print(f"imported {len(rows)} events from {args.file}: {inserted} new, {updated} updated")
        return 0

    return run_with_database(args, action, "events import")
