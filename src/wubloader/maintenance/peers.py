"""Asking peers what they hold, over the restreamer's replication listings (`/files…`), once per run.

Each listing is fetched at most once per `PeerListings` (one operator command), with a deadline.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from wubloader.maintenance.errors import PeerError, UsageError
from wubloader.runtime.errors import FetchError
from wubloader.runtime.http_client import fetch_bytes
from wubloader.store.errors import UnsafePath
from wubloader.store.listing import split_hour_entries
from wubloader.store.naming import check_component

if TYPE_CHECKING:
    import aiohttp

MAX_LISTING_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerHour:
    """One peer's hour: visible segment names and tombstone names."""

    segments: frozenset[str]
    tombstones: frozenset[str]


def normalize_peer(url: str) -> str:
    """A peer base URL without trailing slash; UsageError unless it is http(s)://host…."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url.split("/", 3)[2]) == 0:
        raise UsageError(f"not a node URL: {url[:100]!r} (expected http://HOST:PORT)")
    return url


class PeerListings:
    """Listings of several peers, fetched lazily with a deadline each and remembered for the run."""

    def __init__(
        self, session: aiohttp.ClientSession, *, timeout: float = 15.0, concurrency: int = 4
    ) -> None:
        self.session = session
        self.timeout = timeout
        self._names: dict[str, list[str]] = {}
        self._slots = asyncio.Semaphore(concurrency)

    async def _names_at(self, url: str, *parts: str, query: str = "") -> list[str]:
        path = "/".join(quote(p, safe="") for p in parts)
        full = f"{url}/files/{path}{query}" if parts else f"{url}/files"
        cached = self._names.get(full)
        if cached is not None:
            return cached
        try:
            async with self._slots:
                body = await fetch_bytes(
                    self.session, full, timeout=self.timeout, max_bytes=MAX_LISTING_BYTES, name="ops_listing"
                )
        except FetchError as exc:
            raise PeerError(f"peer {url} unreachable: {exc}", url) from exc
        names = _parse_names(body, url)
        self._names[full] = names
        return names

    async def channels(self, url: str) -> list[str]:
        return await self._names_at(url)

    async def qualities(self, url: str, channel: str) -> list[str]:
        return await self._names_at(url, channel)

    async def hours(self, url: str, channel: str, quality: str) -> list[str]:
        return await self._names_at(url, channel, quality)

    async def hour(self, url: str, channel: str, quality: str, hour: str) -> PeerHour:
        """Visible segments and tombstones of one peer hour (an hour the peer lacks is empty)."""
        names = await self._names_at(url, channel, quality, hour, query="?tombstones=true")
        segments, tombstones = split_hour_entries(names)
        return PeerHour(segments=frozenset(segments), tombstones=frozenset(tombstones))


def _parse_names(body: bytes, url: str) -> list[str]:
    try:
        names = json.loads(body)
    except ValueError:
        raise PeerError(f"peer {url} sent a listing that is not JSON", url) from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PeerError(f"peer {url} sent a listing that is not a list of names", url)
    return [n for n in names if _safe(n)]


def _safe(name: str) -> bool:
    """A peer's name is used as a path component here only if it cannot escape or reveal anything."""
    try:
        check_component(name)
    except UnsafePath:
        return False
    return name != ".."
