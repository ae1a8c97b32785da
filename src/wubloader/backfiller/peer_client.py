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
from urllib.parse import quote

import aiohttp

from wubloader.backfiller.errors import BadPeerListing
from wubloader.backfiller.plan import HourListing
from wubloader.runtime.errors import FetchHTTPError, FetchTooLarge
from wubloader.runtime.http_client import fetch_errors, iter_body, redact_url

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from wubloader.backfiller.nodes import Peer
    from wubloader.backfiller.plan import HourKey

MAX_LISTING_BYTES = 32 * 1024 * 1024
SEGMENT_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedListing:
    """A peer hour listing with the digest of the body it came from (and its ETag, if any)."""

    digest: str
    etag: str | None
    listing: HourListing


class ListingCache:
    """What each peer hour looked like last time, keyed by (peer URL, channel, quality, hour).

    Digests and ETags (tiny) are kept for `max_entries` hours; parsed listings (1800 names per
    hour) only for the `max_listings` most recent, so a 14-day window over many peers stays small.
    """

    def __init__(self, max_entries: int = 16384, max_listings: int = 256) -> None:
        self.max_entries = max_entries
        self.max_listings = max_listings
        self._meta: OrderedDict[tuple[str, str, str, str], tuple[str, str | None]] = OrderedDict()
        self._parsed: OrderedDict[tuple[str, str, str, str], HourListing] = OrderedDict()

    def get(self, key: tuple[str, str, str, str]) -> tuple[str, str | None, HourListing | None] | None:
        """(digest, etag, listing or None if evicted), or None if the hour was never seen."""
        meta = self._meta.get(key)
        if meta is None:
            return None
        self._meta.move_to_end(key)
        listing = self._parsed.get(key)
        if listing is not None:
            self._parsed.move_to_end(key)
        return meta[0], meta[1], listing

    def put(self, key: tuple[str, str, str, str], entry: CachedListing) -> None:
        self._meta[key] = (entry.digest, entry.etag)
        self._meta.move_to_end(key)
        self._parsed[key] = entry.listing
        self._parsed.move_to_end(key)
        while len(self._meta) > self.max_entries:
            old, _ = self._meta.popitem(last=False)
            self._parsed.pop(old, None)
        while len(self._parsed) > self.max_listings:
            self._parsed.popitem(last=False)

    def __len__(self) -> int:
        return len(self._meta)


def _path(*parts: str) -> str:
    # Segment names contain ':'; percent-encode every component as the original did.
    return "/".join(quote(part, safe="") for part in parts)


class PeerClient:
    """The replication API of one peer, over the shared session. Raises FetchError or BadPeerListing."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        peer: Peer,
        cache: ListingCache,
        *,
        listing_timeout: float,
        segment_timeout: float,
        read_timeout: float,
    ) -> None:
        self.session = session
        self.peer = peer
        self.cache = cache
        self.listing_timeout = listing_timeout
        self.segment_timeout = segment_timeout
        self.read_timeout = read_timeout

    async def list_names(self, *parts: str) -> list[str]:
        """`GET /files[/…]` as a list of names (channels, qualities or hours)."""
        body, _etag, _status = await self._get_listing(_path("files", *parts), None)
        return _decode_names(body, self.peer.url)

    async def hour_listing(self, key: HourKey) -> CachedListing:
        """`GET /files/C/Q/H?tombstones=true`; the digest says whether it changed since last time.

        Sends If-None-Match when the peer gave an ETag and the parsed listing is still cached.
        """
        cache_key = (self.peer.url, key.channel, key.quality, key.hour)
        cached = self.cache.get(cache_key)
        known = cached is not None and cached[2] is not None
        path = _path("files", key.channel, key.quality, key.hour) + "?tombstones=true"
        body, etag, status = await self._get_listing(
            path, cached[1] if cached is not None and known else None
        )
        if status == 304 and cached is not None and cached[2] is not None:
            return CachedListing(digest=cached[0], etag=cached[1], listing=cached[2])
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        if cached is not None and cached[0] == digest and cached[2] is not None:
            return CachedListing(digest=digest, etag=etag, listing=cached[2])
        entry = CachedListing(
            digest=digest, etag=etag, listing=HourListing.from_names(_decode_names(body, self.peer.url))
        )
        self.cache.put(cache_key, entry)
        return entry

    def segment_body(self, key: HourKey, name: str) -> AsyncGenerator[bytes, None]:
        """The bytes of `/segments/C/Q/H/NAME`, in chunks; close it (aclosing) when stopping early."""
        url = f"{self.peer.url}/{_path('segments', key.channel, key.quality, key.hour, name)}"
        return iter_body(
            self.session,
            url,
            timeout=self.segment_timeout,
            read_timeout=self.read_timeout,
            chunk_size=SEGMENT_CHUNK,
            name="backfill_segment",
        )

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
                if (response.content_length or 0) > MAX_LISTING_BYTES:
                    raise FetchTooLarge(f"listing {shown} is too large", shown)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_any():
                    size += len(chunk)
                    if size > MAX_LISTING_BYTES:
                        raise FetchTooLarge(f"listing {shown} is too large", shown)
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("ETag"), response.status


def _decode_names(body: bytes, url: str) -> list[str]:
    """A JSON list of strings, or BadPeerListing (an original node also answers this way)."""
    try:
        names = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPeerListing(f"listing from {url} is not JSON", url) from exc
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BadPeerListing(f"listing from {url} is not a list of names", url)
    return names
