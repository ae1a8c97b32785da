"""`wubloader downloader`: parse flags into a DownloaderConfig and run a Downloader until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from wubloader.downloader.config import (
    TWITCH_API_URL,
    TWITCH_URL_MAX_AGE,
    TWITCH_USHER_API,
    TWITCH_USHER_APIS,
    TWITCH_USHER_URL,
    DownloaderConfig,
    TwitchConfig,
)
from wubloader.downloader.manager import Downloader
from wubloader.runtime.backdoor import start_backdoor
from wubloader.runtime.config import (
    add_common_arguments,
    backdoor_config,
    cli_type,
    parse_csv,
    parse_duration_seconds,
)
from wubloader.runtime.health import Health
from wubloader.runtime.logsetup import setup_logging
from wubloader.runtime.metrics import LOOPBACK, serve_metrics, watch_store_space
from wubloader.runtime.serve import run_component
from wubloader.store import TempSweeper
from wubloader.store.writer import writable_check

if TYPE_CHECKING:
    import argparse

    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    """Flags of `wubloader downloader` (each also read from WUBLOADER_<FLAG>)."""
    parser.add_argument("channel", help="channel name (the store directory and, for twitch, the login)")
    parser.add_argument("--source", required=True, help="master or media playlist URL, or 'twitch'")
    parser.add_argument(
        "--qualities", type=parse_csv, default=("source",), help="comma list (default source)"
    )
    parser.add_argument("--base-dir", type=Path, required=True, help="segment store root")
    seconds = cli_type(parse_duration_seconds)
    parser.add_argument("--poll-interval", type=seconds, default=1.0, help="media playlist poll interval")
    parser.add_argument("--suspect-after", type=seconds, default=59.0, help="a fetch this slow is suspect")
    parser.add_argument("--give-up-after", type=seconds, default=1200.0, help="stop retrying a segment")
    parser.add_argument("--segment-timeout", type=seconds, default=240.0, help="one segment fetch attempt")
    parser.add_argument("--stop-timeout", type=seconds, default=10.0, help="graceful stop: finish writes")
    parser.add_argument("--twitch-api-url", default=TWITCH_API_URL, help="twitch GQL endpoint")
    parser.add_argument("--twitch-usher-url", default=TWITCH_USHER_URL, help="twitch usher base URL")
    parser.add_argument(
        "--twitch-usher-api", choices=TWITCH_USHER_APIS, default=TWITCH_USHER_API, help="usher API version"
    )
    parser.add_argument(
        "--max-segment-duration", type=seconds, default=120.0, help="longer segments are refused"
    )
    parser.add_argument(
        "--max-bitrate",
        type=float,
        default=80e6,
        help="bits/s; a segment body over this x its duration is refused",
    )
    parser.add_argument("--twitch-auth-file", type=Path, default=None, help="file holding an OAuth token")
    parser.add_argument(
        "--twitch-url-max-age", type=seconds, default=TWITCH_URL_MAX_AGE, help="roll media URLs after this"
    )
    add_common_arguments(parser)


def config_from_args(args: argparse.Namespace) -> DownloaderConfig:
    """Build and validate the config (raises RuntimeConfigError)."""
    token = args.twitch_auth_file.read_text().strip() if args.twitch_auth_file is not None else None
    return DownloaderConfig(
        channel=args.channel,
        source=args.source,
        base_dir=args.base_dir,
        qualities=tuple(args.qualities),
        twitch=TwitchConfig(
            api_url=args.twitch_api_url,
            usher_url=args.twitch_usher_url,
            auth_token=token or None,
            url_max_age=args.twitch_url_max_age,
            usher_api=args.twitch_usher_api,
        ),
        max_segment_duration=args.max_segment_duration,
        max_bitrate=args.max_bitrate,
        poll_interval=args.poll_interval,
        suspect_after=args.suspect_after,
        give_up_after=args.give_up_after,
        segment_timeout=args.segment_timeout,
        stop_timeout=args.stop_timeout,
    )


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; 0 after a graceful stop, 2 for bad configuration."""
    setup_logging(args.log_level)

    async def main(stop: asyncio.Event) -> None:
        config = config_from_args(args)
        downloader = Downloader(config)
        backdoor = await start_backdoor(backdoor_config(args), {"config": config, "downloader": downloader})
        try:
            async with asyncio.TaskGroup() as group:
                if args.metrics_port is not None:
                    health = Health({"store": writable_check(config.base_dir)}, stop=stop)
                    watch_store_space(config.base_dir)
                    metrics = serve_metrics(
                        args.metrics_host or LOOPBACK, args.metrics_port, stop, health=health
                    )
                    group.create_task(metrics)
                group.create_task(downloader.run(stop))
                group.create_task(TempSweeper(config.base_dir, [config.channel]).run(stop))
        finally:
            if backdoor is not None:
                await backdoor.close()

    return run_component(main)
