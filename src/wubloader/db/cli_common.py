"""What the database commands share: the `--db` flag (also WUBLOADER_DB) and one-line failure reporting."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from wubloader.db.database import Database
from wubloader.db.errors import DatabaseError
from wubloader.runtime.errors import RuntimeConfigError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

EXIT_FAILED = 1
EXIT_USAGE = 2


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", required=True, metavar="URL", help="sqlite:///PATH or postgresql://USER@HOST/NAME"
    )


def run_with_database(args: argparse.Namespace, action: Callable[[Database], int], command: str) -> int:
    """Open `--db`, run `action`, print a failure as one line: exit 2 for bad input, 1 for the rest."""
    try:
        database = Database(args.db)
    except RuntimeConfigError as exc:
        print(f"wubloader {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return action(database)
    except (RuntimeConfigError, ValueError) as exc:
        print(f"wubloader {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as exc:
        print(f"wubloader {command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        database.close()
