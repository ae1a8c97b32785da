"""`wubloader token add|list|revoke`: issue editor tokens (printed once, stored hashed), list, revoke."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wubloader.db import roles, tokens
from wubloader.db.cli_common import EXIT_FAILED, add_db_argument, run_with_database
from wubloader.runtime.timeparse import format_utc, now_utc

if TYPE_CHECKING:
    import argparse

    import sqlalchemy as sa

    from wubloader.db.database import Database
    from wubloader.runtime.config import EnvArgumentParser


def configure_parser(parser: EnvArgumentParser) -> None:
    actions = parser.add_subparsers(dest="token_action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    add = actions.add_parser("add", help="issue a token for EMAIL and set its roles")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--name", default=None, help="display name (default: the email)")
    add.add_argument("--editor", action="store_true", help="may edit events")
    add.add_argument("--artist", action="store_true", help="may manage thumbnail templates")
    listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
    revoke = actions.add_parser("revoke", help="revoke a token by its id (see `token list`)")
    revoke.add_argument("token_id", type=int, metavar="ID")
    for sub in (add, listing, revoke):
        add_db_argument(sub)


def _issue(connection: sa.Connection, email: str, name: str, editor: bool, artist: bool) -> str:
    roles.put_role(connection, roles.RoleRow(email=email, name=name, editor=editor, artist=artist))
    token, _info = tokens.add_token(connection, email, now=now_utc())
    return token


def run(args: argparse.Namespace) -> int:
    def action(database: Database) -> int:
        database.require_current()
        if args.token_action == "add":
            email = args.email.strip().lower()
            if "@" not in email or any(c.isspace() for c in email):
                raise ValueError(f"not an email address: {args.email[:64]!r}")
            token = database.call(_issue, email, args.name or email, args.editor, args.artist)
            print(token)
            return 0
        if args.token_action == "list":
            for info in database.call(tokens.list_tokens):
                revoked = f"revoked {format_utc(info.revoked)}" if info.revoked else "live"
                print(f"{info.id}\t{info.email}\tcreated {format_utc(info.created)}\t{revoked}")
            return 0
        if database.call(tokens.revoke_token, args.token_id, now=now_utc()):
            print(f"revoked token {args.token_id}")
            return 0
        print(f"wubloader token revoke: no live token with id {args.token_id}")
        return EXIT_FAILED

    return run_with_database(args, action, f"token {args.token_action}")
