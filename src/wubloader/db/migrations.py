"""Schema revisions and the runner behind `wubloader db upgrade|status`; services check the revision.

Why not Alembic: we need a linear list of revisions that runs identically on PostgreSQL and SQLite,
each in one transaction (both engines have transactional DDL, so a failed upgrade leaves nothing
half-done), plus a start-up check. That is one table and one loop; Alembic would add an ini file,
env.py, script directories and SQLite batch mode for the same result. A new revision is one function
appended to REVISIONS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from wubloader.db import dialect, schema
from wubloader.db.errors import SchemaOutdated

if TYPE_CHECKING:
    from collections.abc import Callable

VERSION_TABLE = "wubloader_schema"


@dataclass(frozen=True, slots=True, kw_only=True)
class Revision:
    number: int
    summary: str
    apply: Callable[[sa.Connection], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaStatus:
    """Where a database stands: `current` is None for an empty database."""

    current: int | None
    head: int

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.current is None:
            return f"revision: none (empty database); head: {self.head}; run `wubloader db upgrade`"
        if self.current == self.head:
            return f"revision: {self.current} (current)"
        if self.current > self.head:
            return f"revision: {self.current}, newer than this version's head {self.head}: upgrade wubloader"
        return f"revision: {self.current}; head: {self.head}; run `wubloader db upgrade`"


def _revision_1(connection: sa.Connection) -> None:
    schema.V1.create_all(connection)


def _revision_2(connection: sa.Connection) -> None:
    preparer = connection.dialect.identifier_preparer
    for column in schema.event_columns_v2():
        ddl = sa.schema.CreateColumn(column).compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {preparer.quote('events')} ADD COLUMN {ddl}")
    schema.editor_tokens.create(connection)
    dialect.install_notify_trigger(connection)


REVISIONS: tuple[Revision, ...] = (
    Revision(
        number=1, summary="the original schema: events, nodes, roles, playlists, templates", apply=_revision_1
    ),
    Revision(
        number=2, summary="cutter lease, row versions, editor tokens, NOTIFY on EDITED", apply=_revision_2
    ),
)
HEAD = REVISIONS[-1].number


def current_revision(connection: sa.Connection) -> int | None:
    if VERSION_TABLE not in dialect.table_names(connection):
        return None
    value = connection.execute(sa.text(f"SELECT revision FROM {VERSION_TABLE}")).scalar()
    return None if value is None else int(value)


def status(connection: sa.Connection) -> SchemaStatus:
    return SchemaStatus(current=current_revision(connection), head=HEAD)


def upgrade(engine: sa.Engine, *, target: int = HEAD) -> list[Revision]:
    """Apply every revision after the current one up to `target`, each in its own transaction.

    Idempotent: an up-to-date database is left untouched (returns []). Raises SchemaOutdated if the
    database is newer than this code.
    """
    applied: list[Revision] = []
    for revision in REVISIONS:
        if revision.number > target:
            break
        with engine.begin() as connection:
            current = current_revision(connection)
            if current is not None and current > HEAD:
                raise SchemaOutdated(status(connection).describe())
            if current is not None and current >= revision.number:
                continue
            revision.apply(connection)
            _record(connection, revision.number, first=current is None)
            applied.append(revision)
    return applied


def _record(connection: sa.Connection, number: int, *, first: bool) -> None:
    if first:
        connection.exec_driver_sql(f"CREATE TABLE {VERSION_TABLE} (revision INTEGER NOT NULL)")
        connection.execute(sa.text(f"INSERT INTO {VERSION_TABLE} (revision) VALUES (:n)"), {"n": number})
    else:
        connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET revision = :n"), {"n": number})


def require_current(connection: sa.Connection) -> None:
    """Refuse to serve an older (or newer) schema, with one line naming `wubloader db upgrade`."""
    state = status(connection)
    if not state.up_to_date:
        raise SchemaOutdated(f"database schema is not current ({state.describe()})")
