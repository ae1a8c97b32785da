"""`wubloader prune`: delete hours older than `--keep` hours (a thin CLI over store.retention)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.maintenance.command import EXIT_OK, run_command
from wubloader.maintenance.scope import check_base, parse_keep_hours
from wubloader.runtime.timeparse import now_utc
from wubloader.store.retention import prune

if TYPE_CHECKING:
    import argparse

    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    add = parser.add_argument
    add("--base-dir", type=Path, required=True, help="the store")
    add("--keep", required=True, metavar="HOURS", help="keep this many hours; delete whole hours older")
    add("--dry-run", action="store_true", help="say what would be deleted, delete nothing")


def run(args: argparse.Namespace) -> int:
    return run_command("prune", lambda: _prune(args))


def _prune(args: argparse.Namespace) -> int:
    base = check_base(args.base_dir)
    cutoff = now_utc() - timedelta(hours=parse_keep_hours(args.keep))
    pruned = prune(base, cutoff, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    for hour in pruned:
        print(f"{verb} {hour.path} ({hour.files} files, {hour.bytes} bytes)")
    total = sum(h.bytes for h in pruned)
    print(f"{verb} {len(pruned)} hours older than {cutoff.isoformat()}, {total} bytes")
    return EXIT_OK
