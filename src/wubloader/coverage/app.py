"""`wubloader coverage`: parse flags, then run coverage passes (one with --once) with metrics."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.coverage.checker import CoverageChecker
from wubloader.runtime.config import add_common_arguments, check_base_dir, parse_csv
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.health import Health
from wubloader.runtime.logsetup import setup_logging
from wubloader.runtime.metrics import LOOPBACK, start_metrics_server, watch_store_space
from wubloader.runtime.serve import run_component
from wubloader.store.errors import UnsafePath
from wubloader.store.listing import list_channels, list_qualities
from wubloader.store.naming import check_component
from wubloader.store.writer import writable_check

if TYPE_CHECKING:
    import argparse

    from wubloader.coverage.checker import QualityReport
    from wubloader.runtime.config import EnvArgumentParser

EXIT_FAILED = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageConfig:
    """What to check and how often; `channels` must exist in the store (a typo fails at start-up)."""

    base_dir: Path
    channels: tuple[str, ...]
    qualities: tuple[str, ...] = ()
    interval: float = 300.0
    max_hours: int = 336

    def __post_init__(self) -> None:
        check_base_dir(self.base_dir)
        if not self.interval > 0 or self.max_hours < 1:
            raise RuntimeConfigError("--interval must be positive and --max-hours at least 1")
        known = list_channels(self.base_dir)
        for channel in self.channels:
            _check_name(channel, known, f"channel {channel!r}")
            for quality in self.qualities:
                _check_name(quality, list_qualities(self.base_dir, channel), f"quality {channel}/{quality!r}")


def _check_name(name: str, known: list[str], what: str) -> None:
    try:
        check_component(name)
    except UnsafePath as exc:
        raise RuntimeConfigError(str(exc)) from None
    if name not in known:
        raise RuntimeConfigError(f"unknown {what}: not in the store")


def configure_parser(parser: EnvArgumentParser) -> None:
    """`--base-dir DIR --channels C,… [--qualities Q,…] [--once] [--interval 300]` plus the common flags."""
    add = parser.add_argument
    add("--base-dir", type=Path, required=True, help="the store; maps go to BASE/coverage-maps/")
    add("--channels", type=parse_csv, required=True, help="channels to check, comma-separated")
    add("--qualities", type=parse_csv, default=(), help="qualities (default: every quality of each channel)")
    add("--once", action="store_true", help="one pass, print a line per hour, exit")
    add("--interval", type=float, default=300.0, metavar="S", help="seconds between passes (default 300)")
    add("--max-hours", type=int, default=336, help="newest hours drawn per map (default 336 = 14 days)")
    add_common_arguments(parser)


def config_from_args(args: argparse.Namespace) -> CoverageConfig:
    return CoverageConfig(
        base_dir=args.base_dir,
        channels=tuple(args.channels),
        qualities=tuple(args.qualities),
        interval=args.interval,
        max_hours=args.max_hours,
    )


def print_reports(reports: list[QualityReport]) -> None:
    for report in reports:
        c = report.coverage
        print(
            f"{report.channel}/{report.quality}: {c.hours} hours, {sum(c.segments.values())} segments, "
            f"{c.holes} holes ({c.hole_seconds:.1f} s), {c.overlaps} overlaps; map {report.map_path}"
        )
        for line in report.hours:
            print(f"  {line.text()}")


def run(args: argparse.Namespace) -> int:
    """Exit 0 after a graceful stop (or a fully successful --once pass), 2 for bad flags."""
    setup_logging(args.log_level)

    async def main(stop: asyncio.Event) -> int:
        config = config_from_args(args)
        checker = CoverageChecker(config.base_dir, config.channels, config.qualities, config.max_hours)
        if args.once:
            reports = await asyncio.to_thread(checker.run_pass)
            print_reports(reports)
            return 0 if len(reports) == len(checker.targets()) else EXIT_FAILED
        async with contextlib.AsyncExitStack() as stack:
            if args.metrics_port is not None:
                # The maps are written into the store, so it must be writable.
                health = Health({"store": writable_check(config.base_dir)}, stop=stop)
                watch_store_space(config.base_dir)
                server = await start_metrics_server(
                    args.metrics_host or LOOPBACK, args.metrics_port, health=health
                )
                stack.push_async_callback(server.close)
            await checker.run(config.interval, stop)
        return 0

    return run_component(main)
