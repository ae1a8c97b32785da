"""OpenID Connect ID tokens: signature against the issuer's JWKS, then `iss`, `aud`, `exp`, `email_verified`.

The original accepted any Google token (no audience, no email_verified check); this one refuses tokens
minted for another client, expired ones, unverified emails and anything its issuer's keys did not sign.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import jwt

from wubloader.thrimshim.errors import Unauthenticated, Unavailable

if TYPE_CHECKING:
    from wubloader.thrimshim.config import OidcConfig

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
FETCH_TIMEOUT = 10.0
# Clock skew tolerated on exp/iat between the issuer and us.
LEEWAY_SECONDS = 30
# Google's tokens carry the issuer with or without the scheme.
_ISSUER_ALIASES = {"https://accounts.google.com": ["https://accounts.google.com", "accounts.google.com"]}


class OidcVerifier:
    """Verifies ID tokens for one issuer and audience; discovery and keys are fetched once and cached."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    async def email_for(self, token: str) -> str:
        """The verified, lower-cased email of `token`; Unauthenticated (401) or Unavailable (503)."""
        async with asyncio.timeout(FETCH_TIMEOUT * 2):
            return await asyncio.to_thread(self.verify, token)

    def verify(self, token: str) -> str:
        """Blocking form of `email_for`."""
        try:
            key = self._client().get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.config.audience,
                issuer=_ISSUER_ALIASES.get(self.config.issuer, [self.config.issuer]),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("ID token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("ID token was issued for another audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("ID token was issued by another issuer") from None
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable("cannot fetch the OIDC issuer's keys") from exc
        except jwt.PyJWKClientError:
            raise Unauthenticated("ID token is not signed by a key of the issuer") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid ID token: {exc}") from None
        return _verified_email(claims)

    def _client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._jwks is None:
                self._jwks = jwt.PyJWKClient(
                    self._discover_jwks_uri(), timeout=int(FETCH_TIMEOUT), lifespan=300
                )
            return self._jwks

    def _discover_jwks_uri(self) -> str:
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:
                document = json.loads(response.read(1_000_000))
        except (OSError, ValueError) as exc:
            logger.warning("OIDC discovery at %s failed: %s", url, exc)
            raise Unavailable("cannot reach the OIDC issuer") from exc
        jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
        if not isinstance(jwks_uri, str):
            raise Unavailable("the OIDC issuer's configuration names no jwks_uri")
        return jwks_uri


def _verified_email(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise Unauthenticated("ID token carries no email")
    # Google sends a boolean; some issuers a string.
    if claims.get("email_verified") not in (True, "true"):
        raise Unauthenticated("ID token email is not verified")
    return email.lower()
