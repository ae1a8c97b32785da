"""Queries of the `roles` table: which email may edit events (`editor`) or manage templates (`artist`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa

from wubloader.db.schema import roles


class Role(enum.StrEnum):
    EDITOR = "editor"
    ARTIST = "artist"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleRow:
    email: str
    name: str
    editor: bool = False
    artist: bool = False

    def has(self, role: Role) -> bool:
        return self.editor if role is Role.EDITOR else self.artist


def get_role(connection: sa.Connection, email: str) -> RoleRow | None:
    """The row for `email` (compared lower-cased, as stored), or None."""
    row = connection.execute(sa.select(roles).where(roles.c.email == email.lower())).mappings().first()
    return None if row is None else RoleRow(**row)


def put_role(connection: sa.Connection, row: RoleRow) -> None:
    """Insert or replace the roles row of `row.email` (lower-cased)."""
    email = row.email.lower()
    connection.execute(sa.delete(roles).where(roles.c.email == email))
    connection.execute(
        sa.insert(roles).values(email=email, name=row.name, editor=row.editor, artist=row.artist)
    )
