"""The `wubloader` command: one subcommand per component, each defined by its own `app` module.

A component's app module provides `configure_parser(parser)` and `run(args) -> int`. Modules are only
imported for the subcommand being run, so `wubloader restreamer` does not pay for the downloader.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from wubloader.runtime.config import EnvArgumentParser
from wubloader.runtime.signals import catch_stop_signals

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "node": ("wubloader.node.app", "everything a node runs, in one process (try --demo)"),
    "downloader": ("wubloader.downloader.app", "archive a live HLS stream into the store"),
    "restreamer": ("wubloader.restreamer.app", "serve the store: listings, segments, playlists, cuts"),
    "backfiller": ("wubloader.backfiller.app", "copy missing segments and tombstones from peer nodes"),
    "cutter": ("wubloader.cutter.app", "cut and upload the videos editors defined"),
    "thrimshim": ("wubloader.thrimshim.app", "the editing API and the browser editor"),
    "coverage": ("wubloader.coverage.app", "per-hour coverage metrics and maps"),
    "tombstone": ("wubloader.maintenance.tombstone_app", "hide segments cluster-wide and purge them"),
    "versions": ("wubloader.maintenance.versions_app", "find and fix bad versions of segments across nodes"),
    "verify": ("wubloader.maintenance.verify_app", "re-hash segments; quarantine corrupt ones"),
    "prune": ("wubloader.maintenance.prune_app", "delete hours older than --keep HOURS"),
    "db": ("wubloader.db.app", "database migrations and maintenance"),
    "events": ("wubloader.db.app_events", "import events (CSV or JSON lines) into the database"),
    "token": ("wubloader.db.app_tokens", "issue, list and revoke editor tokens"),
}


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The full parser; only `command`'s app module is imported (all of them for `--help`)."""
    parser = EnvArgumentParser(prog="wubloader", description="Archive, replicate, re-serve and cut live HLS.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=EnvArgumentParser)
    subparsers.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if command is not None and name != command:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module_name.startswith(exc.name):
                raise
            sub.set_defaults(run=_not_built(name))
            continue
        module.configure_parser(sub)
        sub.set_defaults(run=module.run)
    return parser


def _not_built(name: str) -> Callable[[argparse.Namespace], int]:
    def run(_args: argparse.Namespace) -> int:
        print(f"wubloader {name}: not built yet in this version", file=sys.stderr)
        return 2

    return run


def main(argv: Sequence[str] | None = None) -> int:
    # First of all: a SIGTERM during start-up must still mean a graceful stop.
    catch_stop_signals()
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(args_list)
    result: int = args.run(args)
    return result
