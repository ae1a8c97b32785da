"""Who is asking: editor tokens (hashed in the DB) or OIDC ID tokens, mapped to a `roles` row.

A token comes from `Authorization: Bearer …`, or (as the original editor sends it) the `token` key of
the JSON body. Missing or unverifiable credentials → 401; a valid identity without the role → 403.
Tokens are never logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wubloader.db import roles, tokens
from wubloader.thrimshim.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from aiohttp import web

    from wubloader.db.database import Database
    from wubloader.thrimshim.oidc import OidcVerifier

NO_AUTH_IDENTITY = "NOT_AUTH"


def token_from(request: web.Request, body: dict[str, Any] | None) -> str | None:
    """The bearer token of the request, the body's `token` key, or None."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization header must be 'Bearer TOKEN'")
        return value.strip()
    token = body.get("token") if body is not None else None
    if token is None:
        return None
    if not isinstance(token, str) or not token:
        raise Unauthenticated("token must be a non-empty string")
    return token


class Authenticator:
    """Checks credentials for a role. With `enabled=False` everyone is NO_AUTH_IDENTITY."""

    def __init__(self, database: Database, *, enabled: bool, oidc: OidcVerifier | None) -> None:
        self.database = database
        self.enabled = enabled
        self.oidc = oidc

    async def require(self, request: web.Request, body: dict[str, Any] | None, role: roles.Role) -> str:
        """The caller's email if it holds `role`; Unauthenticated (401) or Forbidden (403) otherwise."""
        if not self.enabled:
            return NO_AUTH_IDENTITY
        token = token_from(request, body)
        if token is None:
            raise Unauthenticated("authentication required: send Authorization: Bearer TOKEN")
        email = await self._email_for(token)
        row = await self.database.run(roles.get_role, email)
        if row is None:
            raise Forbidden(f"unknown user {email}: no roles entry")
        if not row.has(role):
            raise Forbidden(f"{email} does not have the {role} role")
        return email

    async def _email_for(self, token: str) -> str:
        if token.startswith(tokens.TOKEN_PREFIX) or self.oidc is None:
            email = await self.database.run(tokens.email_for_token, token)
            if email is None:
                raise Unauthenticated("invalid or revoked token")
            return email
        return await self.oidc.email_for(token)
