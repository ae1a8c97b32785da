"""Talking to one peer over the restreamer replication API (`/files…`, `/segments…`) only.

Listings are validated (a JSON list of strings) and remembered per hour by content digest (and
ETag, when the peer sends one), so the caller can tell an unchanged hour and skip re-diffing it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from wubloader.backfiller import metrics
from wubloader.backfiller.errors import BadPeerListing
from wubloader.backfiller.plan import listing_bytes, peer_listing
from wubloader.backfiller.segment_download import Origin
from wubloader.hls.playlist import quote_parts
from wubloader.runtime.errors import FetchHTTPError, FetchTooLarge
from wubloader.runtime.http_client import fetch_errors, redact_url
from wubloader.store.cache import ByteBudgetLRU

if TYPE_CHECKING:
    from wubloader.backfiller.nodes import Peer
    from wubloader.backfiller.plan import HourKey, HourListing


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedListing:
    """A peer hour listing with the digest of the body it came from (and its ETag, if any)."""

    digest: str
    etag: str | None
    listing: HourListing


class ListingCache:
    """What each peer hour looked like last time, keyed by (peer URL, channel, quality, hour).

    Digests and ETags (tiny) are kept for `max_entries` hours; parsed listings only within
    `max_bytes` of memory (most recently used first), so neither a 14-day window over many peers
    nor a peer sending huge listings can grow it without bound.
    """

    def __init__(self, max_entries: int = 16384, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self._meta: OrderedDict[tuple[str, str, str, str], tuple[str, str | None]] = OrderedDict()
        self._parsed: ByteBudgetLRU[tuple[str, str, str, str], HourListing] = ByteBudgetLRU(max_bytes)

    def get(self, key: tuple[str, str, str, str]) -> tuple[str, str | None, HourListing | None] | None:
        """(digest, etag, listing or None if evicted), or None if the hour was never seen."""
        meta = self._meta.get(key)
        if meta is None:
            return None
        self._meta.move_to_end(key)
        return meta[0], meta[1], self._parsed.get(key)

    def put(self, key: tuple[str, str, str, str], entry: CachedListing) -> None:
        self._meta[key] = (entry.digest, entry.etag)
        self._meta.move_to_end(key)
        self._parsed.put(key, entry.listing, listing_bytes(entry.listing))
        while len(self._meta) > self.max_entries:
            old, _ = self._meta.popitem(last=False)
            self._parsed.pop(old)

    @property
    def listing_bytes(self) -> int:
        """Estimated memory held by the parsed listings."""
        return self._parsed.bytes

    def __len__(self) -> int:
        return len(self._meta)


class PeerClient:
    """The replication API of one peer, over the shared session. Raises FetchError or BadPeerListing."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        peer: Peer,
        cache: ListingCache,
        *,
        listing_timeout: float,
        max_listing_names: int,
        max_listing_bytes: int,
    ) -> None:
        self.session = session
        self.peer = peer
        self.origin = Origin.from_url(peer.url)
        self.cache = cache
        self.listing_timeout = listing_timeout
        self.max_listing_names = max_listing_names
        self.max_listing_bytes = max_listing_bytes

    async def list_names(self, *parts: str) -> list[str]:
        """`GET /files[/…]` as a list of names (channels, qualities or hours)."""
        body, _etag, _status = await self._get_listing(quote_parts(("files", *parts)), None)
        return _decode_names(body, self.peer.url, self.max_listing_names)

    async def hour_listing(self, key: HourKey) -> CachedListing:
        """`GET /files/C/Q/H?tombstones=true`; the digest says whether it changed since last time.

        Sends If-None-Match when the peer gave an ETag and the parsed listing is still cached.
        Names this node may not store (unparseable, implausible, unsafe) are dropped and counted.
        """
        cache_key = (self.peer.url, key.channel, key.quality, key.hour)
        cached = self.cache.get(cache_key)
        known = cached is not None and cached[2] is not None
        path = quote_parts(("files", key.channel, key.quality, key.hour)) + "?tombstones=true"
        body, etag, status = await self._get_listing(
            path, cached[1] if cached is not None and known else None
        )
        if status == 304 and cached is not None and cached[2] is not None:
            return CachedListing(digest=cached[0], etag=cached[1], listing=cached[2])
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        if cached is not None and cached[0] == digest and cached[2] is not None:
            return CachedListing(digest=digest, etag=etag, listing=cached[2])
        listing, refused = peer_listing(_decode_names(body, self.peer.url, self.max_listing_names), key.hour)
        if refused:
            metrics.SKIPPED.labels(self.peer.name, "bad_name").inc(refused)
        entry = CachedListing(digest=digest, etag=etag, listing=listing)
        self.cache.put(cache_key, entry)
        return entry

    def segment_path(self, key: HourKey, name: str) -> str:
        """The path of `/segments/C/Q/H/NAME` after the peer's URL (the download threads fetch it)."""
        return quote_parts(("segments", key.channel, key.quality, key.hour, name))

    async def _get_listing(self, path: str, etag: str | None) -> tuple[bytes, str | None, int]:
        url = f"{self.peer.url}/{path}"
        shown = redact_url(url)
        headers = {"If-None-Match": etag} if etag else None
        timeout = aiohttp.ClientTimeout(total=self.listing_timeout)
        with fetch_errors(shown):
            async with self.session.get(url, headers=headers, timeout=timeout) as response:
                if response.status == 304 and etag:
                    return b"", etag, 304
                if not 200 <= response.status < 300:
                    raise FetchHTTPError(f"HTTP {response.status} from {shown}", shown, response.status)
                if (response.content_length or 0) > self.max_listing_bytes:
                    raise FetchTooLarge(f"listing {shown} is too large", shown)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_any():
                    size += len(chunk)
                    if size > self.max_listing_bytes:
                        raise FetchTooLarge(f"listing {shown} is too large", shown)
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("ETag"), response.status


def _decode_names(body: bytes, url: str, max_names: int) -> list[str]:
    """A JSON list of at most `max_names` strings, or BadPeerListing (an original node also answers so).

    The names are counted (by their separators) before parsing, so a body of many tiny strings
    never becomes millions of Python objects.
    """
    if body.count(b",") >= max_names:
        raise BadPeerListing(f"listing from {url} holds more than {max_names} names", url)
    try:
        names = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPeerListing(f"listing from {url} is not JSON", url) from exc
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BadPeerListing(f"listing from {url} is not a list of names", url)
    return names
