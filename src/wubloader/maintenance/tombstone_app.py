"""`wubloader tombstone add|status|purge`: a thin CLI over maintenance.tombstones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.maintenance import tombstones
from wubloader.maintenance.command import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    parse_nodes,
    run_command,
    with_listings,
)
from wubloader.maintenance.errors import UsageError
from wubloader.maintenance.scope import check_base, operator_note, parse_range
from wubloader.runtime.config import parse_csv

if TYPE_CHECKING:
    import argparse

    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    """`add PATH… | add --base-dir --channel --start --end`, `status`, `purge [--dry-run]`."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    add = actions.add_parser("add", help="tombstone segments by path, or every segment in a time range")
    add.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="segment files to tombstone")
    add.add_argument("--base-dir", type=Path, default=None, help="the store (required with --channel)")
    add.add_argument("--channel", default=None, help="tombstone this channel's segments in --start..--end")
    add.add_argument("--quality", type=parse_csv, default=(), help="qualities, comma-separated (default all)")
    add.add_argument("--start", default=None, help="range start (UTC, ISO-8601)")
    add.add_argument("--end", default=None, help="range end (UTC, ISO-8601), exclusive")
    add.add_argument("--reason", default="", help="why (kept in a hidden note beside each tombstone)")
    for name, text in (("status", "which nodes have each tombstone"), ("purge", "delete hidden files")):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("--base-dir", type=Path, required=True, help="this node's store")
        sub.add_argument("--nodes", required=True, metavar="URL,…", help="every other node of the cluster")
        sub.add_argument("--channel", default=None, help="only this channel")
        sub.add_argument("--start", default=None, help="only segments starting at or after this")
        sub.add_argument("--end", default=None, help="only segments starting before this")
    purge = actions.choices["purge"]
    purge.add_argument("--dry-run", action="store_true", help="say what would be freed, delete nothing")


def run(args: argparse.Namespace) -> int:
    actions = {"add": _add, "status": _status, "purge": _purge}
    return run_command(f"tombstone {args.action}", lambda: actions[args.action](args))


def _add(args: argparse.Namespace) -> int:
    note = operator_note(args.reason)
    if args.channel is None:
        if not args.paths or args.start or args.end or args.quality:
            raise UsageError("give segment PATHs, or --base-dir, --channel, --start and --end")
        added = tombstones.add_paths(args.paths, args.base_dir, note)
    else:
        if args.paths or args.base_dir is None or not args.start or not args.end:
            raise UsageError("a range needs --base-dir, --channel, --start and --end (and no PATHs)")
        span = parse_range(args.start, args.end)
        added = tombstones.add_range(check_base(args.base_dir), args.channel, args.quality, span, note)
    for item in added:
        print(f"{'tombstoned' if item.new else 'already tombstoned'} {item.path}")
    print(f"{sum(a.new for a in added)} tombstones added, {sum(not a.new for a in added)} already present")
    return EXIT_OK


def _scope(args: argparse.Namespace) -> tuple[list[tombstones.LocalTombstone], list[str]]:
    nodes = parse_nodes(args.nodes)
    span = parse_range(args.start, args.end)
    found = list(tombstones.local_tombstones(check_base(args.base_dir), args.channel, span))
    return found, nodes


def _status(args: argparse.Namespace) -> int:
    found, nodes = _scope(args)
    statuses = with_listings(lambda listings: tombstones.tombstone_status(found, nodes, listings))
    for status in statuses:
        line = f"{'ok' if status.everywhere else 'MISSING'} {status.tombstone.relative}"
        line += f" on {len(status.present)}/{len(nodes)} nodes"
        if status.missing:
            line += "; missing on " + ", ".join(status.missing)
        if status.visible:
            line += "; segment still visible on " + ", ".join(status.visible)
        if status.unreachable:
            line += "; unreachable: " + ", ".join(status.unreachable)
        print(line)
    complete = sum(s.everywhere for s in statuses)
    print(f"{complete} of {len(statuses)} tombstones are on every node")
    return EXIT_OK if complete == len(statuses) else EXIT_INCOMPLETE


def _purge(args: argparse.Namespace) -> int:
    found, nodes = _scope(args)
    result = with_listings(lambda listings: tombstones.purge(found, nodes, listings, dry_run=args.dry_run))
    if result.unreachable:
        asked = ", ".join(result.unreachable)
        print(f"nothing deleted: cannot ask {asked} whether it has the tombstones")
        return EXIT_INCOMPLETE
    verb = "would free" if args.dry_run else "freed"
    for path, size in result.freed:
        print(f"{verb} {path} ({size} bytes)")
    for path, reason in result.kept:
        print(f"kept {path}: {reason}")
    total = sum(size for _, size in result.freed)
    print(f"{verb} {len(result.freed)} files, {total} bytes; kept {len(result.kept)}")
    return EXIT_OK if result.complete else EXIT_INCOMPLETE
