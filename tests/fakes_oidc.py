"""A real OpenID Connect issuer on 127.0.0.1: discovery document and JWKS, and ID tokens it signs."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.harness.threaded_app import ThreadedApp

AUDIENCE = "wubloader-editor"


class OidcIssuer:
    """Signs tokens with its own RSA key (`kid` "k1"); `other_key` signs tokens it must not vouch for."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.server = ThreadedApp()
        self.jwks_requests = 0

    @property
    def issuer(self) -> str:
        return self.server.url

    def start(self) -> OidcIssuer:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/jwks", self._jwks)
        self.server.start(app)
        return self

    def stop(self) -> None:
        self.server.stop()

    async def _discovery(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"})

    async def _jwks(self, request: web.Request) -> web.Response:
        self.jwks_requests += 1
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return web.json_response({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]})

    def token(self, email: str = "ed@example.org", *, signer: Any = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "123",
            "email": email,
            "email_verified": True,
            "iat": now,
            "exp": now + 600,
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, signer or self.key, algorithm="RS256", headers={"kid": "k1"})
