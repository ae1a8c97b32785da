"""The one seam between PostgreSQL and SQLite: URLs, connection set-up, locking, NOTIFY, error mapping.

Nothing outside this module asks which engine it is talking to. Both engines run the same queries;
what differs is how a connection is prepared and which extras exist (PostgreSQL's NOTIFY trigger).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event, exc

from wubloader.db.errors import BadDatabaseUrl, ConstraintViolation, DatabaseError, DatabaseUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

NOTIFY_CHANNEL = "wubloader_events"
# SQLite serialises writers; a writer waits this long for the lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000

_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION wubloader_notify_edited() RETURNS trigger AS $$
BEGIN
    IF NEW.state = 'EDITED' AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM 'EDITED') THEN
        PERFORM pg_notify('{NOTIFY_CHANNEL}', NEW.id);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER events_notify_edited AFTER INSERT OR UPDATE OF state ON events
FOR EACH ROW EXECUTE FUNCTION wubloader_notify_edited()
"""


def sqlalchemy_url(url: str) -> sa.URL:
    """`sqlite:///PATH` or `postgresql://…` (any driver suffix replaced by psycopg 3); BadDatabaseUrl else."""
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError as error:
        raise BadDatabaseUrl("bad database URL: expected sqlite:///PATH or postgresql://…") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise BadDatabaseUrl("a SQLite database URL needs a file path: sqlite:///PATH")
        return parsed.set(drivername="sqlite+pysqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise BadDatabaseUrl(f"unsupported database {backend!r}: expected sqlite:///PATH or postgresql://…")


def redact(url: str) -> str:
    """The URL as it may appear in logs and messages: password hidden."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<bad URL>"


def create_engine(url: str, *, pool_size: int = 5) -> sa.Engine:
    """An engine for `url`, with each engine's connections prepared the same way for our queries."""
    target = sqlalchemy_url(url)
    if target.get_backend_name() == "sqlite":
        engine = sa.create_engine(target, poolclass=sa.pool.QueuePool, pool_size=pool_size)
        event.listen(engine, "connect", _prepare_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return sa.create_engine(
        target, pool_size=pool_size, pool_pre_ping=True, connect_args={"connect_timeout": 10}
    )


def _prepare_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let us issue BEGIN ourselves (pysqlite's implicit transactions break DDL and locking).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _begin_sqlite(connection: sa.Connection) -> None:
    # IMMEDIATE takes the write lock up front: a read-then-write transaction can never fail half-way
    # with "database is locked", which is what PostgreSQL's row locks give us on the other engine.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgresql(connection: sa.Connection) -> bool:
    return connection.dialect.name == "postgresql"


def install_notify_trigger(connection: sa.Connection) -> None:
    """PostgreSQL: NOTIFY `wubloader_events` with the id whenever a row enters EDITED. SQLite: nothing
    (a single node's cutter polls; there is no other process to wake)."""
    if is_postgresql(connection):
        connection.exec_driver_sql(_NOTIFY_FUNCTION)
        connection.exec_driver_sql(_NOTIFY_TRIGGER)


def json_object(
    connection: sa.Connection, pairs: list[tuple[str, sa.ColumnElement[Any]]]
) -> sa.ColumnElement[str]:
    """SQL building one JSON object text per row, so big listings never pass through Python objects.

    Values come out as the API writes them: timestamps `YYYY-MM-DDTHH:MM:SS.ffffff`, booleans as
    true/false, JSON columns embedded as JSON.
    """
    postgres = is_postgresql(connection)
    args: list[Any] = []
    for key, column in pairs:
        # Keys are our column names: inline them (PostgreSQL cannot type a bare parameter here).
        assert key.isidentifier(), key
        args += [sa.literal_column(f"'{key}'"), _json_value(column, postgres=postgres)]
    if postgres:
        return sa.cast(sa.func.json_build_object(*args), sa.Text)
    return sa.func.json_object(*args)


def _json_value(column: sa.ColumnElement[Any], *, postgres: bool) -> sa.ColumnElement[Any]:
    kind = column.type
    if isinstance(kind, sa.DateTime):
        if postgres:
            return sa.func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US')
        # SQLAlchemy stores SQLite timestamps as "YYYY-MM-DD HH:MM:SS.ffffff".
        return sa.func.replace(column, " ", "T")
    if isinstance(kind, sa.Boolean) and not postgres:
        return sa.func.json(sa.case((column, "true"), else_="false"))
    if isinstance(kind, sa.JSON) and not postgres:
        return sa.func.json(column)
    return column


def table_names(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


@contextlib.contextmanager
def converted_errors(url: str) -> Iterator[None]:
    """Convert driver errors to db.errors once, here (never leaking the password in the message)."""
    try:
        yield
    except exc.IntegrityError as error:
        raise ConstraintViolation(_first_line(error.orig)) from error
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise DatabaseUnavailable(f"database {redact(url)}: {_first_line(error.orig)}") from error
    except exc.DBAPIError as error:
        raise DatabaseError(f"database {redact(url)}: {_first_line(error.orig)}") from error


def _first_line(error: BaseException | None) -> str:
    text = str(error) if error is not None else "unknown database error"
    return (text.strip().splitlines() or ["unknown database error"])[0][:300]
