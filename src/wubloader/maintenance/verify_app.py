"""`wubloader verify`: a thin CLI over maintenance.verify."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.maintenance.command import EXIT_INCOMPLETE, EXIT_OK, run_command
from wubloader.maintenance.scope import check_base, parse_megabytes_per_second, parse_range
from wubloader.maintenance.verify import segments_to_verify, verify

if TYPE_CHECKING:
    import argparse

    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    add = parser.add_argument
    add("--base-dir", type=Path, required=True, help="the store to check")
    add("--channel", default=None, help="only this channel (default all)")
    add("--start", default=None, help="only segments starting at or after this (UTC, ISO-8601)")
    add("--end", default=None, help="only segments starting before this")
    add("--max-rate", default=None, metavar="MB/s", help="read at most this many MB/s (default unlimited)")
    add("--fix", action="store_true", help="quarantine corrupt files (backfill then restores them)")


def run(args: argparse.Namespace) -> int:
    return run_command("verify", lambda: _verify(args))


def _verify(args: argparse.Namespace) -> int:
    base = check_base(args.base_dir)
    span = parse_range(args.start, args.end)
    rate = parse_megabytes_per_second(args.max_rate, "--max-rate") if args.max_rate else None
    segments = segments_to_verify(base, args.channel, span)
    started = time.monotonic()
    result = verify(base, segments, max_rate=rate, fix=args.fix)
    for bad in result.corrupt:
        where = f"quarantined to {bad.quarantined}" if bad.quarantined else "left in place (use --fix)"
        print(f"CORRUPT {bad.path}: its bytes hash to {bad.actual}; {where}")
    elapsed = time.monotonic() - started
    print(
        f"verified {result.files} files ({result.bytes} bytes) in {elapsed:.1f} s: "
        f"{len(result.corrupt)} corrupt, {sum(c.quarantined is not None for c in result.corrupt)} quarantined"
    )
    return EXIT_OK if result.complete else EXIT_INCOMPLETE
