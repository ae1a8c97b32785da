"""The thrimshim service: builds the aiohttp app (routes, error mapping, CORS, metrics) and runs it.

`create_app(config, database)` is what `wubloader thrimshim` serves and what tests drive in-process.
Template routes come before row routes, because `/thrimshim/{id}` would otherwise swallow
`/thrimshim/templates`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.db import migrations
from wubloader.db.database import Database
from wubloader.editor.routes import EditorConfig, add_editor_routes
from wubloader.runtime.config import HttpConfig, add_common_arguments, cli_type, parse_csv, parse_port
from wubloader.runtime.health import Health, add_health_routes
from wubloader.runtime.http_errors import cors_headers, quiet_malformed_request_logs
from wubloader.runtime.logsetup import setup_logging
from wubloader.runtime.metrics import add_metrics_route, request_metrics_middleware
from wubloader.runtime.serve import run_component, serve_app
from wubloader.runtime.timeparse import now_utc, parse_utc_only
from wubloader.thrimshim import openapi, routes_rows, routes_templates
from wubloader.thrimshim.auth import Authenticator
from wubloader.thrimshim.config import OidcConfig, ThrimshimConfig
from wubloader.thrimshim.errors import error_middleware
from wubloader.thrimshim.state import STATE, ThrimshimState

if TYPE_CHECKING:
    import argparse
    import asyncio
    from collections.abc import Callable
    from datetime import datetime

    from wubloader.runtime.config import EnvArgumentParser

logger = logging.getLogger(__name__)

SERVICE = "thrimshim"
# Custom thumbnails (≤ 2 MB) and template PNGs arrive base64-encoded in JSON.
MAX_BODY_BYTES = 8 * 1024 * 1024
ROUTE_GROUPS = (routes_templates, routes_rows, openapi)


def create_app(
    config: ThrimshimConfig,
    database: Database,
    *,
    now: Callable[[], datetime] = now_utc,
    editor: EditorConfig | None = None,
    health: Health | None = None,
) -> web.Application:
    """The API over `database` (which must be migrated; see `Database.require_current`).

    With `editor`, the browser editor is served too (at `/`, `/edit/{id}`, `/watch`). `/readyz`
    checks `health` (default: the database answers with the current schema).
    """
    app = web.Application(
        middlewares=[request_metrics_middleware(SERVICE), error_middleware], client_max_size=MAX_BODY_BYTES
    )
    verifier = None
    if config.oidc is not None:
        # Only nodes that accept OIDC sign-in pay for PyJWT and cryptography (~9 MiB resident).
        from wubloader.thrimshim.oidc import OidcVerifier

        verifier = OidcVerifier(config.oidc)
    app[STATE] = ThrimshimState(
        config=config,
        database=database,
        now=now,
        auth=Authenticator(database, enabled=config.authentication, oidc=verifier),
    )
    app.on_response_prepare.append(cors_headers)
    for group in ROUTE_GROUPS:
        group.add_routes(app)
    add_metrics_route(app)
    add_health_routes(app, health or database_health(database))
    if editor is not None:
        add_editor_routes(app, editor)
    return app


def database_health(database: Database, stop: asyncio.Event | None = None) -> Health:
    """Ready while the database answers with the current schema and `stop` is not set."""
    return Health({"database": database.check_ready}, stop=stop)


def editor_config(config: ThrimshimConfig, restreamer_url: str) -> EditorConfig:
    """The editor's page settings for this thrimshim: its auth mode and OIDC client."""
    return EditorConfig(
        restreamer_url=restreamer_url,
        authentication=config.authentication,
        oidc_issuer=config.oidc.issuer if config.oidc is not None else None,
        oidc_client_id=config.oidc.audience if config.oidc is not None else None,
    )


def configure_parser(parser: EnvArgumentParser) -> None:
    add = parser.add_argument
    add("--db", required=True, metavar="URL", help="sqlite:///PATH or postgresql://…")
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=cli_type(parse_port), default=8004, help="port (default 8004)")
    add("--no-authentication", action="store_true", help="let anyone edit (local use only; logged)")
    add("--oidc-issuer", default=None, metavar="URL", help="accept ID tokens from this OpenID issuer")
    add("--oidc-audience", default=None, metavar="ID", help="the client id ID tokens must be minted for")
    add("--title-header", default="", help="titles start with '<header> - '")
    add("--description-footer", default="", help="appended to every description")
    add(
        "--upload-locations",
        type=cli_type(parse_csv),
        default=(),
        metavar="A,B",
        help="locations cutters serve (first = default); others are refused",
    )
    add("--default-channel", default=None, help="video_channel when a row has none")
    add(
        "--bustime-start",
        type=cli_type(parse_utc_only),
        default=None,
        metavar="TIME",
        help="UTC instant bus time counts from",
    )
    add("--drain-timeout", type=float, default=20.0, help="seconds to finish requests after SIGTERM")
    add(
        "--restreamer-url",
        default="",
        metavar="URL",
        help="restreamer the served editor plays from (default: the same origin, e.g. behind nginx)",
    )
    add("--no-editor", action="store_true", help="serve only the API, not the browser editor")
    add_common_arguments(parser)


def config_from_args(args: argparse.Namespace) -> ThrimshimConfig:
    oidc = None
    if args.oidc_issuer or args.oidc_audience:
        oidc = OidcConfig(issuer=args.oidc_issuer or "", audience=args.oidc_audience or "")
    return ThrimshimConfig(
        db_url=args.db,
        http=HttpConfig(host=args.host, port=args.port),
        authentication=not args.no_authentication,
        oidc=oidc,
        title_header=args.title_header,
        description_footer=args.description_footer,
        upload_locations=tuple(args.upload_locations),
        default_channel=args.default_channel,
        bustime_start=args.bustime_start,
        drain_timeout=args.drain_timeout,
    )


async def serve(config: ThrimshimConfig, stop: asyncio.Event, editor: EditorConfig | None = None) -> None:
    """Refuse an outdated schema, then serve until `stop` and drain."""
    database = Database(config.db_url)
    try:
        await database.run(migrations.require_current)
        if not config.authentication:
            logger.warning("authentication is DISABLED (--no-authentication): anyone can edit, as NOT_AUTH")
        app = create_app(config, database, editor=editor, health=database_health(database, stop))
        await serve_app(app, config.http.host, config.http.port, stop, drain_timeout=config.drain_timeout)
    finally:
        database.close()


def run(args: argparse.Namespace) -> int:
    """CLI entry point: 0 after a graceful stop, 2 for bad configuration or an outdated schema."""
    setup_logging(args.log_level)
    quiet_malformed_request_logs()

    async def main(stop: asyncio.Event) -> None:
        config = config_from_args(args)
        editor = None if args.no_editor else editor_config(config, args.restreamer_url)
        await serve(config, stop, editor)

    return run_component(main)
