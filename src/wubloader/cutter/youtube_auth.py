"""OAuth for the YouTube backend: credentials from the creds file, access tokens by refresh-token grant."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from wubloader.cutter.errors import LocationsError, UploadError
from wubloader.cutter.json_fields import required

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

# Refresh this long before expiry so a long upload never starts with a token about to lapse.
REFRESH_MARGIN = 600.0
TOKEN_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GoogleCredentials:
    """The OAuth client and its long-lived refresh token (never logged)."""

    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:
        return f"GoogleCredentials(client_id={self.client_id!r}, ...)"


def read_credentials(path: Path) -> GoogleCredentials:
    """Parse the creds JSON file; LocationsError (start-up, exit 2) when missing or malformed."""
    where = f"--creds {path}"
    try:
        raw: Any = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise LocationsError(f"{where}: cannot read JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise LocationsError(f"{where}: must be a JSON object")
    return GoogleCredentials(
        client_id=required(raw, "client_id", str, where),
        client_secret=required(raw, "client_secret", str, where),
        refresh_token=required(raw, "refresh_token", str, where),
    )


class AccessTokens:
    """A cached access token, refreshed REFRESH_MARGIN s before it expires (or at half its life)."""

    def __init__(
        self, session: aiohttp.ClientSession, credentials: GoogleCredentials, token_url: str
    ) -> None:
        self._session = session
        self._credentials = credentials
        self._token_url = token_url
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        """`Authorization: Bearer …`; raises a retryable UploadError when the token endpoint fails."""
        async with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                await self._refresh()
            assert self._token is not None
            return {"Authorization": f"Bearer {self._token}"}

    async def _refresh(self) -> None:
        form = {
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
            "refresh_token": self._credentials.refresh_token,
            "grant_type": "refresh_token",
        }
        try:
            async with asyncio.timeout(TOKEN_TIMEOUT):
                async with self._session.post(self._token_url, data=form) as response:
                    body = await response.read()
                    if response.status != 200:
                        raise UploadError(
                            f"token refresh answered {response.status}: {body[:200]!r}", retryable=True
                        )
                    answer = json.loads(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise UploadError(f"token refresh failed: {exc}", retryable=True) from exc
        self._token = str(answer["access_token"])
        lifetime = float(answer.get("expires_in", 3600))
        self._refresh_at = time.monotonic() + max(lifetime - REFRESH_MARGIN, lifetime / 2)
        logger.debug("refreshed the YouTube access token (valid %.0f s)", lifetime)
