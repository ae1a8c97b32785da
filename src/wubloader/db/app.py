"""`wubloader db upgrade|status --db URL`: create or upgrade the schema, or say where it stands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wubloader.db.cli_common import EXIT_FAILED, add_db_argument, run_with_database

if TYPE_CHECKING:
    import argparse

    from wubloader.db.database import Database
    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    for name, text in (
        ("upgrade", "create the schema or bring it to the current revision (idempotent)"),
        ("status", "print the schema revision and whether it is current"),
    ):
        add_db_argument(actions.add_parser(name, help=text, description=text))


def _upgrade(database: Database) -> int:
    applied = database.upgrade()
    for revision in applied:
        print(f"applied revision {revision.number}: {revision.summary}")
    print(database.status().describe() if applied else "already current: " + database.status().describe())
    return 0


def _status(database: Database) -> int:
    state = database.status()
    print(state.describe())
    return 0 if state.up_to_date else EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    action = _upgrade if args.db_action == "upgrade" else _status
    return run_with_database(args, action, f"db {args.db_action}")
