"""Authentication for every write: editor tokens, OIDC ID tokens from a real local issuer, roles, 401/403."""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from tests.fakes_oidc import AUDIENCE, OidcIssuer
from tests.thrimshim.conftest import NOW, PNG, b64, bearer, edit_body
from wubloader.db import events, tokens
from wubloader.thrimshim.config import OidcConfig

TEMPLATE = {
    "name": "new",
    "image": b64(PNG),
    "description": "",
    "attribution": "",
    "crop": [0, 0, 1, 1],
    "location": [0, 0, 1, 1],
}
# Every write route, with a body that would succeed for the right role.
WRITES = [
    ("/thrimshim/ev1", edit_body()),
    ("/thrimshim/events", {"id": "n1", "sheet_name": "s"}),
    ("/thrimshim/reset/ev1", {}),
    ("/thrimshim/manual-link/ev1", {"link": "https://x.org/v"}),
    ("/thrimshim/auth-test", {}),
    ("/thrimshim/add-template", TEMPLATE),
    ("/thrimshim/update-template/standard", {**TEMPLATE, "name": "standard"}),
]
ARTIST_ROUTES = ("/thrimshim/add-template", "/thrimshim/update-template/standard")


@pytest.fixture(scope="module")
def issuer():
    server = OidcIssuer().start()
    yield server
    server.stop()


@pytest.mark.parametrize(("path", "body"), WRITES, ids=[w[0] for w in WRITES])
async def test_every_write_needs_the_right_role(client, seeded, database, path, body):
    anonymous = await client.post(path, json=body)
    assert (anonymous.status, await anonymous.text()) == (
        401,
        "authentication required: send Authorization: Bearer TOKEN\n",
    )
    forged = await client.post(path, json=body, headers=bearer("wub_forged"))
    assert (forged.status, await forged.text()) == (401, "invalid or revoked token\n")
    wrong_role = seeded.editor if path in ARTIST_ROUTES else seeded.artist
    refused = await client.post(path, json=body, headers=bearer(wrong_role))
    assert refused.status == 403 and "role" in await refused.text()
    nobody = await client.post(path, json=body, headers=bearer(seeded.nobody))
    assert nobody.status == 403
    with database.transaction() as conn:
        assert events.get_event(conn, "ev1").row_version == 1  # nothing was written
    right = seeded.artist if path in ARTIST_ROUTES else seeded.editor
    response = await client.post(path, json={**body, "token": right})  # the original's body token
    assert response.status in (200, 201), await response.text()


async def test_revoked_token_and_bad_header(client, seeded, database):
    with database.transaction() as conn:
        token_id = next(t.id for t in tokens.list_tokens(conn) if t.email == "ed@example.org")
        tokens.revoke_token(conn, token_id, now=NOW)
    response = await client.post("/thrimshim/auth-test", headers=bearer(seeded.editor))
    assert (response.status, await response.text()) == (401, "invalid or revoked token\n")
    response = await client.post("/thrimshim/auth-test", headers={"Authorization": "Basic abc"})
    assert (response.status, await response.text()) == (401, "Authorization header must be 'Bearer TOKEN'\n")
    response = await client.post("/thrimshim/auth-test", json={"token": 5})
    assert response.status == 401


async def test_auth_test_names_the_editor_and_tokens_stay_out_of_logs(client, seeded, caplog):
    caplog.set_level(logging.DEBUG)
    response = await client.post("/thrimshim/auth-test", headers=bearer(seeded.editor))
    assert await response.json() == "ed@example.org"
    await client.post("/thrimshim/ev1", json={**edit_body(), "token": seeded.editor})
    assert seeded.editor not in caplog.text


async def test_no_authentication_edits_as_not_auth(make_client, seeded, database):
    client = await make_client(authentication=False)
    response = await client.post("/thrimshim/ev1", json=edit_body())
    assert response.status == 201
    with database.transaction() as conn:
        assert events.get_event(conn, "ev1").editor == "NOT_AUTH"


async def test_oidc_tokens(make_client, seeded, issuer):
    client = await make_client(oidc=OidcConfig(issuer=issuer.issuer, audience=AUDIENCE))
    fetched_before = issuer.jwks_requests
    good = await client.post("/thrimshim/auth-test", headers=bearer(issuer.token("Ed@Example.org")))
    assert (good.status, await good.json()) == (200, "ed@example.org")
    refused = {
        "another audience": (
            issuer.token(aud="someone-else"),
            401,
            "ID token was issued for another audience",
        ),
        "expired": (
            issuer.token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
            401,
            "ID token has expired",
        ),
        "unverified email": (issuer.token(email_verified=False), 401, "ID token email is not verified"),
        "wrong signature": (
            issuer.token(signer=issuer.other_key),
            401,
            "invalid ID token: Signature verification failed",
        ),
        "another issuer": (
            issuer.token(iss="https://evil.example"),
            401,
            "ID token was issued by another issuer",
        ),
        "no expiry": (issuer.token(exp=None), 401, 'invalid ID token: Token is missing the "exp" claim'),
        "unknown email": (
            issuer.token("stranger@example.org"),
            403,
            "unknown user stranger@example.org: no roles entry",
        ),
        "no role": (issuer.token("art@example.org"), 403, "art@example.org does not have the editor role"),
        "control characters in email": (issuer.token("a\x00b@example.org"), 401, "ID token carries no email"),
        "garbage": ("not.a.jwt", 401, "invalid ID token: Invalid header padding"),
        "unknown key id": (_with_kid(issuer, "k2"), 401, "ID token is not signed by a key of the issuer"),
    }
    for name, (token, status, reason) in refused.items():
        response = await client.post("/thrimshim/auth-test", headers=bearer(token))
        assert (response.status, await response.text()) == (status, reason + "\n"), name
    # Editor tokens keep working next to OIDC; keys were fetched once and cached.
    assert (await client.post("/thrimshim/auth-test", headers=bearer(seeded.editor))).status == 200
    assert issuer.jwks_requests - fetched_before == 1


def _with_kid(issuer: OidcIssuer, kid: str) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer.issuer,
        "aud": AUDIENCE,
        "email": "ed@example.org",
        "email_verified": True,
        "exp": now + 60,
    }
    return jwt.encode(claims, issuer.key, algorithm="RS256", headers={"kid": kid})
