"""`wubloader node`: parse the node's flags into the components' configs and run them in one process."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.backfiller.app import node_source_from_args
from wubloader.backfiller.config import BackfillerConfig, StartBound, parse_rate, parse_start
from wubloader.downloader.config import DownloaderConfig
from wubloader.node.config import NodeConfig
from wubloader.node.demo import DEMO_CHANNEL
from wubloader.node.editing_config import (
    DEMO_LOCATION,
    DemoEvents,
    EditingConfig,
    demo_db_url,
    demo_local_location,
    demo_videos,
)
from wubloader.node.node import Node
from wubloader.restreamer.app import add_limit_arguments
from wubloader.restreamer.app import config_from_args as restreamer_config_from_args
from wubloader.restreamer.errors import quiet_malformed_request_logs
from wubloader.runtime.backdoor import start_backdoor
from wubloader.runtime.config import (
    HttpConfig,
    add_common_arguments,
    backdoor_config,
    cli_type,
    parse_csv,
    parse_port,
)
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.logsetup import setup_logging
from wubloader.runtime.serve import run_component

if TYPE_CHECKING:
    import argparse
    import asyncio

    from wubloader.runtime.config import EnvArgumentParser

logger = logging.getLogger(__name__)

# Placeholder until the demo stream's local URL is known at start-up.
DEMO_SOURCE = "http://127.0.0.1/demo.m3u8"


def configure_parser(parser: EnvArgumentParser) -> None:
    """`wubloader node --base-dir DIR (--channel C --source URL | --demo) [--nodes URL,…] [--port 8000]`."""
    add = parser.add_argument
    add("--base-dir", type=Path, default=Path("data"), help="the segment store (default ./data)")
    add("--channel", default=None, help="channel to archive (with --source)")
    add("--source", default=None, help="master/media playlist URL or 'twitch' (with --channel)")
    add("--demo", action="store_true", help="archive a built-in synthetic live stream (channel 'demo')")
    add("--qualities", type=parse_csv, default=("source",), help="qualities to download (default source)")
    add("--host", default="127.0.0.1", help="address the restreamer listens on (default 127.0.0.1)")
    add("--port", type=cli_type(parse_port), default=8000, help="restreamer port (default 8000)")
    add("--nodes", type=parse_csv, default=(), metavar="URL,…", help="peer nodes to backfill from")
    add("--node-file", type=Path, default=None, help="file of peer 'NAME URL' or 'URL' lines")
    add("--db", default=None, help="events database: serve thrimshim + the editor (and the nodes table)")
    add("--locations", type=Path, default=None, metavar="FILE.json", help="run a cutter for these locations")
    add("--editor-port", type=cli_type(parse_port), default=8004, help="thrimshim + editor port")
    add("--name", default=None, help="the cutter's unique name in the cluster (default: hostname)")
    add("--creds", type=Path, default=None, metavar="FILE.json", help="Google OAuth credentials (youtube)")
    add("--self-url", default=None, help="this node's URL as peers know it (excluded from backfill)")
    add("--recent-cutoff", type=float, default=120.0, metavar="S", help="backfill skips younger segments")
    add("--start", type=cli_type(parse_start), default=None, metavar="HOURS|TIMESTAMP", help="backfill bound")
    add("--concurrency", type=int, default=5, help="simultaneous backfill downloads per peer")
    add("--max-rate", type=cli_type(parse_rate), default=None, metavar="MB/s", help="backfill bandwidth cap")
    add("--pass-interval", type=float, default=30.0, metavar="S", help="pause between backfill passes")
    add("--scrub-rate", type=cli_type(parse_rate), default=None, metavar="MB/s", help="re-hash the store")
    add("--coverage-interval", type=float, default=0.0, metavar="S", help="coverage maps every S s (0 = off)")
    add("--keep", type=float, default=None, metavar="HOURS", help="delete hours older than this")
    add("--drain-timeout", type=float, default=20.0, help="seconds to finish in-flight work after SIGTERM")
    add_limit_arguments(parser)
    add_common_arguments(parser)


def config_from_args(args: argparse.Namespace) -> NodeConfig:
    """Build every component's config; raises RuntimeConfigError for contradictory or bad flags."""
    if args.demo and (args.source or args.channel):
        raise RuntimeConfigError("give either --demo or --channel/--source, not both")
    if bool(args.channel) != bool(args.source):
        raise RuntimeConfigError("--channel and --source go together")
    restreamer = restreamer_config_from_args(args)
    downloader = None
    if args.demo or args.source:
        downloader = DownloaderConfig(
            channel=DEMO_CHANNEL if args.demo else args.channel,
            source=DEMO_SOURCE if args.demo else args.source,
            base_dir=args.base_dir,
            qualities=tuple(args.qualities),
            stop_timeout=min(10.0, args.drain_timeout),
        )
    has_peers = bool(args.nodes or args.node_file)
    backfiller = None
    if has_peers:
        backfiller = BackfillerConfig(
            base_dir=args.base_dir,
            start=retention_start(args.start, args.keep),
            recent_cutoff=args.recent_cutoff,
            downloaded_channels=frozenset({downloader.channel}) if downloader is not None else frozenset(),
            concurrency=args.concurrency,
            max_rate=args.max_rate or None,
            pass_interval=args.pass_interval,
            drain_timeout=min(10.0, args.drain_timeout),
        )
    return NodeConfig(
        restreamer=restreamer,
        downloader=downloader,
        backfiller=backfiller,
        nodes=node_source_from_args(args) if has_peers else None,
        demo=args.demo,
        self_url=args.self_url,
        scrub_rate=args.scrub_rate or None,
        keep_hours=args.keep,
        coverage_interval=args.coverage_interval or None,
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        editing=editing_from_args(args, downloader),
    )


def editing_from_args(args: argparse.Namespace, downloader: DownloaderConfig | None) -> EditingConfig | None:
    """With `--db` (or `--demo`: SQLite and a `local` location in the base dir, no sign-in, 127.0.0.1)."""
    if args.locations is not None and not (args.db or args.demo):
        raise RuntimeConfigError("--locations needs --db (the cutter's events database)")
    if not (args.db or args.demo):
        return None
    http = HttpConfig(host="127.0.0.1" if args.demo else args.host, port=args.editor_port)
    if args.editor_port == args.port:
        raise RuntimeConfigError("--editor-port must differ from --port")
    if args.name is not None and (not args.name or not args.name.isprintable()):
        raise RuntimeConfigError("--name must be a non-empty printable name")
    # The cutter's modules load only for a node that edits (a plain node stays lean).
    from wubloader.cutter.app import credentials_for
    from wubloader.cutter.locations import parse_location, read_locations

    locations = read_locations(args.locations) if args.locations is not None else None
    if args.creds is not None and not locations:
        raise RuntimeConfigError("--creds needs --locations (the cutter's upload locations)")
    credentials_for(locations or {}, args.creds)  # a youtube location without usable creds stops start-up
    demo = None
    if args.demo:
        assert downloader is not None
        local = demo_local_location(args.base_dir, http)
        locations = locations or {DEMO_LOCATION: parse_location(DEMO_LOCATION, local)}
        demo = DemoEvents(channel=downloader.channel, quality=downloader.qualities[0])
    return EditingConfig(
        db_url=args.db or demo_db_url(args.base_dir),
        http=http,
        upgrade=not args.db,
        locations=locations,
        videos=demo_videos(args.base_dir) if args.demo else None,
        demo_events=demo,
        authentication=not args.demo,
        drain_timeout=args.drain_timeout,
        cutter_name=args.name or socket.gethostname(),
        creds=args.creds,
    )


def retention_start(start: StartBound | None, keep: float | None) -> StartBound | None:
    """The backfill bound under `--keep`: never further back than the retention, so nothing pruned returns."""
    if keep is None:
        return start
    if start is None or start.hours is None:
        if start is not None:
            raise RuntimeConfigError("--keep needs --start in hours (or no --start), not a timestamp")
        return StartBound(hours=keep)
    return StartBound(hours=min(start.hours, keep))


def run(args: argparse.Namespace) -> int:
    """Run the node until SIGTERM/SIGINT; 0 after a graceful stop, 2 for bad flags."""
    setup_logging(args.log_level)
    quiet_malformed_request_logs()

    async def main(stop: asyncio.Event) -> None:
        node = Node(config_from_args(args))
        console = await start_backdoor(backdoor_config(args), {"node": node, "config": node.config})
        try:
            await node.run(stop)
        finally:
            if console is not None:
                await console.close()

    return run_component(main)
