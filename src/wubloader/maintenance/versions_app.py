"""`wubloader versions`: a thin CLI over maintenance.versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.maintenance.command import EXIT_OK, parse_nodes, run_command, with_listings
from wubloader.maintenance.scope import check_base, operator_note, parse_range
from wubloader.maintenance.versions import find_moments, tombstone_losers

if TYPE_CHECKING:
    import argparse

    from wubloader.maintenance.versions import Version
    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    add = parser.add_argument
    add("--base-dir", type=Path, required=True, help="this node's store (tombstones are made here)")
    add("--nodes", required=True, metavar="URL,…", help="every other node of the cluster")
    add("--channel", default=None, help="only this channel (default all)")
    add("--start", default=None, help="only segments starting at or after this (UTC, ISO-8601)")
    add("--end", default=None, help="only segments starting before this")
    add("--fix", action="store_true", help="tombstone every version but the kept one")


def run(args: argparse.Namespace) -> int:
    return run_command("versions", lambda: _versions(args))


def _describe(version: Version) -> str:
    return f"{version.name} ({version.segment.type}, on {len(version.holders)} nodes)"


def _versions(args: argparse.Namespace) -> int:
    base = check_base(args.base_dir)
    span = parse_range(args.start, args.end)
    nodes = parse_nodes(args.nodes)
    moments = with_listings(lambda listings: find_moments(base, nodes, listings, args.channel, span))
    for moment in moments:
        print(f"{moment.channel}/{moment.quality}/{moment.hour} {moment.start.isoformat()}:")
        print(f"  keep      {_describe(moment.keep)}")
        for loser in moment.losers:
            print(f"  {'tombstone' if args.fix else 'bad      '} {_describe(loser)}")
    losers = sum(len(m.losers) for m in moments)
    if args.fix:
        note = operator_note("bad version (wubloader versions --fix)")
        hidden = tombstone_losers(base, moments, note)
        print(f"{len(moments)} moments with several versions; {len(hidden)} versions tombstoned here")
    else:
        print(f"{len(moments)} moments with several versions; {losers} to tombstone (use --fix)")
    return EXIT_OK
