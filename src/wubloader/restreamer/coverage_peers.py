"""The nodes the `/coverage` page shows: `--nodes`, plus the database's `nodes` table when `--db` is given.

The table is read at most every `ttl` seconds; when the database cannot be asked, the page still shows
the static peers and says why the others are missing.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.errors import WubloaderError

if TYPE_CHECKING:
    from collections.abc import Callable

    from wubloader.db.database import Database

logger = logging.getLogger(__name__)


class CoveragePeers:
    """Peer base URLs for the coverage page, static ones first, then the database's (deduplicated)."""

    def __init__(
        self,
        static: tuple[str, ...],
        db_url: str | None,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.static = tuple(u.rstrip("/") for u in static)
        self.db_url = db_url
        self.ttl = ttl
        self._clock = clock
        self._database: Database | None = None
        self._cached: tuple[float, list[str]] | None = None

    async def urls(self) -> tuple[list[str], str | None]:
        """(peer URLs, a one-line problem if the database could not be read)."""
        if self.db_url is None:
            return list(self.static), None
        try:
            from_db = await self._from_database()
        except (WubloaderError, TimeoutError) as exc:
            logger.warning("coverage page: cannot read the nodes table: %s", exc)
            return list(self.static), f"the database's node list is unavailable ({type(exc).__name__})"
        return list(dict.fromkeys([*self.static, *from_db])), None

    async def _from_database(self) -> list[str]:
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < self.ttl:
            return self._cached[1]
        from wubloader.db.database import Database  # only nodes given --db pay for SQLAlchemy
        from wubloader.db.nodes import list_nodes

        if self._database is None:
            self._database = Database(self.db_url or "", pool_size=1, timeout=5.0)
        nodes = await self._database.run(list_nodes, backfill_only=True)
        urls = [node.url.rstrip("/") for node in nodes]
        self._cached = (now, urls)
        return urls

    def close(self) -> None:
        if self._database is not None:
            self._database.close()


PEERS = web.AppKey("coverage_peers", CoveragePeers)
