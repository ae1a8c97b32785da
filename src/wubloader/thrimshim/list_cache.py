"""The events listing, cached per filter and revalidated by a fingerprint of the table.

The events page polls `GET /thrimshim` every 2 s, and building 20,000 rows of JSON costs the
database hundreds of milliseconds. Each poll first reads `events_fingerprint` (a digest of every
row's version, whoever wrote it): unchanged since the cached body was built → the cached body;
changed → the body is built again. The fingerprint is read *before* the body, so a cached body is
never older than the fingerprint it is kept under. The ETag is a digest of the body itself (strong
by construction), so a client's `If-None-Match` gets a 304 exactly when its copy is current. Where
there is no fingerprint (SQLite) the body is built every time; ETags and 304s still work.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

from wubloader.db import events
from wubloader.store.cache import ByteBudgetLRU

if TYPE_CHECKING:
    import sqlalchemy as sa

    from wubloader.db.events import EventFilter

# Bodies kept across all filters (an unfiltered 20,000-event listing is about 20 MB).
LIST_CACHE_BYTES = 64 * 1024 * 1024


class EventListCache:
    """Listing bodies by filter, each with the fingerprint it was built under. Thread-safe."""

    def __init__(self, max_bytes: int = LIST_CACHE_BYTES) -> None:
        self._bodies: ByteBudgetLRU[EventFilter, tuple[str, str, str]] = ByteBudgetLRU(max_bytes)
        self._lock = threading.Lock()

    def listing(self, connection: sa.Connection, filters: EventFilter) -> tuple[str, str]:
        """(JSON body, strong ETag) of the rows `filters` select, from the cache while unchanged."""
        fingerprint = events.events_fingerprint(connection)
        if fingerprint is not None:
            with self._lock:
                cached = self._bodies.get(filters)
            if cached is not None and cached[0] == fingerprint:
                return cached[1], cached[2]
        body = events.list_events_json(connection, filters)
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        if fingerprint is not None:
            with self._lock:
                self._bodies.put(filters, (fingerprint, body, etag), len(body) + len(fingerprint) + 200)
        return body, etag


def etag_matches(etag: str, if_none_match: str | None) -> bool:
    """`If-None-Match` lists `etag` (weak comparison, as RFC 9110 asks for If-None-Match) or `*`."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags
