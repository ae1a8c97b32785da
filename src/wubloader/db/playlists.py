"""Queries of the `playlists` table: which playlists a video's description lists, and default templates."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from wubloader.db.schema import playlists


@dataclass(frozen=True, slots=True, kw_only=True)
class Playlist:
    """`tags` None matches nothing; `()` matches every video."""

    id: str
    name: str = ""
    description: str = ""
    tags: tuple[str, ...] | None = None
    playlist_id: str | None = None
    show_in_description: bool = False
    first_event_id: str | None = None
    last_event_id: str | None = None
    default_template: str | None = None


def list_playlists(connection: sa.Connection) -> list[Playlist]:
    rows = connection.execute(sa.select(playlists).order_by(playlists.c.id)).mappings()
    return [Playlist(**{**row, "tags": None if row["tags"] is None else tuple(row["tags"])}) for row in rows]


def put_playlist(connection: sa.Connection, playlist: Playlist) -> None:
    """Insert or replace the playlist with `playlist.id`."""
    connection.execute(sa.delete(playlists).where(playlists.c.id == playlist.id))
    values = {name: getattr(playlist, name) for name in playlist.__dataclass_fields__}
    values["tags"] = None if playlist.tags is None else list(playlist.tags)
    connection.execute(sa.insert(playlists).values(**values))
