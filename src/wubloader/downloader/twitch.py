"""The twitch provider: a playback access token from the GQL API, then the usher master playlist.

Twitch changes these details every few years (2019, 2021, 2025), so every value that has changed
before is a named constant, and the API endpoints are configuration (tests use a local fake).
An usher 404 means offline; anything unexpected from the token API is a ProviderError, logged
as an error rather than mistaken for "offline" (the original silently stopped in 2021 that way).
"""

from __future__ import annotations

import json
import random
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from yarl import URL

from wubloader.downloader.errors import ProviderError, StreamOffline
from wubloader.downloader.metrics import FETCH_LATENCY, FetchWhat
from wubloader.downloader.providers import pick_variants
from wubloader.hls.parser import parse_master_playlist
from wubloader.runtime.errors import FetchHTTPError
from wubloader.runtime.http_client import fetch_bytes, fetch_errors, redact_url

if TYPE_CHECKING:
    from wubloader.downloader.config import TwitchConfig

# The twitch web player's public client id and the persisted query it uses for access tokens.
CLIENT_ID = "kimne78kx3ncx6brgo4mv6wki5h1ko"
ACCESS_TOKEN_QUERY_HASH = "ed230aa1e33e07eebb8928504583da78a5173989fadfb1ac94be06a04f3cdbe9"
PLAYER_TYPE = "embed"
PLATFORM = "site"
SUPPORTED_CODECS = "av1,h265,h264"
# Usher's master playlist API: `v2` is what twitch's own web player has called since early 2026;
# the unversioned `v1` path still answered then, with the older EXT-X-MEDIA naming. Both shapes
# are parsed either way (docs/downloader.md, "Twitch usher API").
USHER_PATHS = {"v1": "/api/channel/hls/{channel}.m3u8", "v2": "/api/v2/channel/hls/{channel}.m3u8"}
MAX_BODY = 4 * 1024 * 1024


class TwitchProvider:
    """Media playlist URLs for a twitch channel; they expire, so workers roll over at `url_max_age`."""

    def __init__(self, channel: str, config: TwitchConfig, *, timeout: float) -> None:
        self.channel = channel
        self.config = config
        self.timeout = timeout
        self.url_max_age: float | None = config.url_max_age

    async def media_urls(self, session: aiohttp.ClientSession, qualities: tuple[str, ...]) -> dict[str, str]:
        started = time.perf_counter()
        token, signature = await self._access_token(session)
        url = usher_url(self.config.usher_url, self.config.usher_api, self.channel)
        params = {
            "player": "twitchweb",
            "p": str(random.randrange(1_000_000)),
            "type": "any",
            "allow_source": "true",
            "allow_audio_only": "true",
            "allow_spectre": "false",
            "fast_bread": "true",
            "supported_codecs": SUPPORTED_CODECS,
            "sig": signature,
            "token": token,
        }
        query_url = _with_query(url, params)
        try:
            body = await fetch_bytes(
                session,
                query_url,
                timeout=self.timeout,
                max_bytes=MAX_BODY,
                headers={"Referer": "https://player.twitch.tv", "Origin": "https://player.twitch.tv"},
                name="twitch_usher",
            )
        except FetchHTTPError as exc:
            if exc.status == 404:
                raise StreamOffline(f"twitch channel {self.channel} is not live") from exc
            raise
        FETCH_LATENCY.labels("all", FetchWhat.MASTER).observe(time.perf_counter() - started)
        master = parse_master_playlist(body.decode("utf-8", errors="replace"), url)
        return pick_variants(master, qualities)

    async def _access_token(self, session: aiohttp.ClientSession) -> tuple[str, str]:
        payload = {
            "operationName": "PlaybackAccessToken",
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": ACCESS_TOKEN_QUERY_HASH}},
            "variables": {
                "isLive": True,
                "login": self.channel,
                "isVod": False,
                "vodID": "",
                "playerType": PLAYER_TYPE,
                "platform": PLATFORM,
            },
        }
        headers = {"Client-ID": CLIENT_ID}
        if self.config.auth_token:
            headers["Authorization"] = f"OAuth {self.config.auth_token}"
        answer = await _post_json(session, self.config.api_url, payload, headers, self.timeout)
        try:
            token = answer["data"]["streamPlaybackAccessToken"]
            value, signature = token["value"], token["signature"]
        except (KeyError, TypeError):
            raise ProviderError(
                f"twitch access token answer has an unexpected shape: {str(answer)[:200]}"
            ) from None
        if not isinstance(value, str) or not isinstance(signature, str):
            raise ProviderError("twitch access token fields are not strings")
        return value, signature


async def _post_json(
    session: aiohttp.ClientSession, url: str, payload: Any, headers: dict[str, str], time_limit: float
) -> Any:
    """POST JSON and decode a JSON answer; non-2xx → ProviderError (the API is broken, not offline)."""
    shown = redact_url(url)
    with fetch_errors(shown):
        async with session.post(
            url, json=payload, headers=headers, timeout=aiohttp.ClientTimeout(total=time_limit)
        ) as response:
            status = response.status
            # The whole body, however it is split into packets (one read() returns only what has
            # arrived so far), and never more than MAX_BODY.
            body = await response.content.read(MAX_BODY + 1)
            while len(body) <= MAX_BODY and not response.content.at_eof():
                more = await response.content.read(MAX_BODY + 1 - len(body))
                if not more:
                    break
                body += more
    if len(body) > MAX_BODY:
        raise ProviderError(f"twitch API {shown} answered more than {MAX_BODY} bytes")
    if not 200 <= status < 300:
        raise ProviderError(f"twitch API {shown} answered HTTP {status}")
    try:
        return json.loads(body)
    except ValueError:
        raise ProviderError(f"twitch API {shown} answered non-JSON") from None


def usher_url(base: str, api: str, channel: str) -> str:
    """The usher master playlist URL (without its query) for `channel` on API version `api`."""
    return base.rstrip("/") + USHER_PATHS[api].format(channel=channel)


def _with_query(url: str, params: dict[str, str]) -> str:
    return str(URL(url).with_query(params))
