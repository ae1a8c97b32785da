"""Queries of the `editor_tokens` table: operator-issued tokens, of which only a SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from wubloader.db.schema import editor_tokens

if TYPE_CHECKING:
    from datetime import datetime

TOKEN_PREFIX = "wub_"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    """A token's record (never the token itself)."""

    id: int
    email: str
    created: datetime
    revoked: datetime | None


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def add_token(connection: sa.Connection, email: str, *, now: datetime) -> tuple[str, TokenInfo]:
    """Issue a token for `email` (which must have a roles row); returns the token, shown only now."""
    token = new_token()
    result = connection.execute(
        sa.insert(editor_tokens)
        .values(token_hash=hash_token(token), email=email.lower(), created=now)
        .returning(editor_tokens.c.id)
    )
    return token, TokenInfo(id=int(result.scalar_one()), email=email.lower(), created=now, revoked=None)


def list_tokens(connection: sa.Connection) -> list[TokenInfo]:
    query = sa.select(
        editor_tokens.c.id, editor_tokens.c.email, editor_tokens.c.created, editor_tokens.c.revoked
    ).order_by(editor_tokens.c.id)
    return [TokenInfo(**row) for row in connection.execute(query).mappings()]


def revoke_token(connection: sa.Connection, token_id: int, *, now: datetime) -> bool:
    """Revoke a live token by id; False if there is no such live token."""
    result = connection.execute(
        sa.update(editor_tokens)
        .where(editor_tokens.c.id == token_id, editor_tokens.c.revoked.is_(None))
        .values(revoked=now)
    )
    return bool(result.rowcount)


def email_for_token(connection: sa.Connection, token: str) -> str | None:
    """The email a live token was issued to, or None (unknown or revoked)."""
    query = sa.select(editor_tokens.c.email).where(
        editor_tokens.c.token_hash == hash_token(token), editor_tokens.c.revoked.is_(None)
    )
    value = connection.execute(query).scalar()
    return None if value is None else str(value)
