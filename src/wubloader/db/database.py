"""The handle services hold: an engine, transactions with converted errors, and async access via a thread.

Query modules are synchronous functions of a connection; `Database.run` runs one such function in a
transaction on a worker thread, under a deadline, so the event loop never blocks on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from wubloader.db import dialect, migrations

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import sqlalchemy as sa

T = TypeVar("T")
P = ParamSpec("P")
DEFAULT_TIMEOUT = 30.0


class Database:
    """One database (by URL). Use `transaction()` in threads/CLIs, `await run(fn, …)` in services."""

    def __init__(self, url: str, *, pool_size: int = 5, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        self.engine = dialect.create_engine(url, pool_size=pool_size)

    def __repr__(self) -> str:
        return f"Database({dialect.redact(self.url)})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A connection inside one transaction: committed on success, rolled back on any error.

        Driver errors leave as db.errors (ConstraintViolation, DatabaseUnavailable, DatabaseError).
        """
        with dialect.converted_errors(self.url), self.engine.begin() as connection:
            yield connection

    def call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run `fn(connection, *args, **kwargs)` in one transaction (blocking)."""
        with self.transaction() as connection:
            return fn(connection, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """`call` on a worker thread, bounded by the database deadline (TimeoutError after it)."""
        async with asyncio.timeout(self.timeout):
            return await asyncio.to_thread(functools.partial(self.call, fn, *args, **kwargs))

    def upgrade(self) -> list[migrations.Revision]:
        with dialect.converted_errors(self.url):
            return migrations.upgrade(self.engine)

    def status(self) -> migrations.SchemaStatus:
        return self.call(migrations.status)

    def require_current(self) -> None:
        """Raise SchemaOutdated (naming `wubloader db upgrade`) unless the schema is at head."""
        self.call(migrations.require_current)

    async def check_ready(self) -> None:
        """Return once the database answers with the current schema (a readiness check).

        Raises DatabaseUnavailable, SchemaOutdated or TimeoutError (after the database deadline).
        """
        await self.run(migrations.require_current)

    def close(self) -> None:
        self.engine.dispose()
