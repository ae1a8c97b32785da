"""Waking services when a row enters EDITED: PostgreSQL LISTEN on the trigger's channel.

The engine difference lives here: on SQLite there is nothing to listen to (one node, its cutter
polls), so `listen_for_edits` returns at once and callers keep their polling.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from wubloader.db.dialect import NOTIFY_CHANNEL, redact, sqlalchemy_url

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

RECONNECT_PAUSE = 5.0
CONNECT_TIMEOUT = 10.0


def _conninfo(url: str) -> str | None:
    target = sqlalchemy_url(url)
    if target.get_backend_name() != "postgresql":
        return None
    return target.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_for_edits(url: str, on_edited: Callable[[str], None]) -> None:
    """Call `on_edited(event_id)` for every row entering EDITED, until cancelled (PostgreSQL).

    Reconnects after RECONNECT_PAUSE when the connection drops; returns at once on SQLite.
    """
    conninfo = _conninfo(url)
    if conninfo is None:
        return
    import psycopg  # only PostgreSQL nodes pay for the driver (~9 MiB resident)

    while True:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
            async with connection:
                await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                logger.info("listening for edited events on %s", redact(url))
                async for notify in connection.notifies():
                    on_edited(notify.payload)
        except (psycopg.Error, OSError, TimeoutError) as exc:
            logger.warning("LISTEN connection to %s failed (%s); polling until it is back", redact(url), exc)
        await asyncio.sleep(RECONNECT_PAUSE)
