"""Errors raised by db/: bad URLs, outdated schemas, unreachable servers and refused writes.

Hierarchy::

    WubloaderError
    └── DatabaseError                    any database failure (driver errors are converted here, once)
        ├── BadDatabaseUrl (RuntimeConfigError)   not sqlite:///PATH or postgresql://…
        ├── SchemaOutdated               the schema is older (or newer) than this version; names the fix
        ├── DatabaseUnavailable          cannot connect or the server went away (retryable)
        ├── ConstraintViolation          a write broke a CHECK/UNIQUE/NOT NULL rule (not retryable)
        └── ImportRejected (ValueError)  an events import file has a bad line; nothing was imported
"""

from __future__ import annotations

from wubloader.errors import WubloaderError
from wubloader.runtime.errors import RuntimeConfigError


class DatabaseError(WubloaderError):
    """A database operation failed; `str(exc)` is one line, without credentials."""


class BadDatabaseUrl(DatabaseError, RuntimeConfigError):
    """The --db / WUBLOADER_DB value is not a URL wubloader can use."""


class SchemaOutdated(DatabaseError, RuntimeConfigError):
    """The database is not at the revision this code needs; the message says which command to run."""


class DatabaseUnavailable(DatabaseError):
    """The server could not be reached or dropped the connection; retrying later may succeed."""


class ConstraintViolation(DatabaseError):
    """A write was refused by the schema's constraints (state machine CHECKs, keys)."""


class ImportRejected(DatabaseError, ValueError):
    """An import file line is invalid; `line` is its 1-based number. Nothing was written."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
