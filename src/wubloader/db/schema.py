"""The tables, as SQLAlchemy Core objects, with every state-machine CHECK of the events table.

Portable mapping of the original's PostgreSQL-only types (the same on both engines, round-tripping
exactly): enums are TEXT with a CHECK; arrays (`tags`, `video_ranges`, `video_transitions`, box
coordinates) are JSON arrays (`video_ranges` `[["start","end"],…]` with ISO timestamps, transitions
`[null | ["type", seconds], …]`); the `end_time` composite is `event_end` plus `event_end_dashed`.
Revision 1 (`V1`) is the original's schema; later columns are added by later migration revisions and
appear in the head tables below.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa


class EventState(enum.StrEnum):
    UNEDITED = "UNEDITED"
    EDITED = "EDITED"
    CLAIMED = "CLAIMED"
    FINALIZING = "FINALIZING"
    TRANSCODING = "TRANSCODING"
    DONE = "DONE"
    MODIFIED = "MODIFIED"


class ThumbnailMode(enum.StrEnum):
    NONE = "NONE"
    BARE = "BARE"
    TEMPLATE = "TEMPLATE"
    CUSTOM = "CUSTOM"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def _json() -> sa.JSON:
    # none_as_null: Python None must be SQL NULL, or the nullability CHECKs below would see 'null'.
    return sa.JSON(none_as_null=True)


_STATES = tuple(EventState)
_MODES = tuple(ThumbnailMode)
_EDIT_REQUIRED = (
    "video_ranges",
    "video_transitions",
    "video_title",
    "video_description",
    "video_tags",
    "video_channel",
)

# Each rule of the original's schema, named so a refused write says which rule it broke.
EVENT_CHECKS: dict[str, str] = {
    "state_valid": _in("state", _STATES),
    "thumbnail_mode_valid": _in("thumbnail_mode", _MODES),
    # Spelled out NULL-safe: a CHECK that evaluates to NULL passes, which is how the original's
    # cardinality rule let one NULL array through.
    "event_end_dashed": "NOT event_end_dashed OR (event_end IS NULL AND event_start IS NULL) "
    "OR (event_end IS NOT NULL AND event_start IS NOT NULL AND event_end = event_start)",
    "upload_location_set": "upload_location IS NOT NULL OR state = 'UNEDITED'",
    **{
        f"{column}_set": f"{column} IS NOT NULL OR state IN ('UNEDITED', 'DONE')" for column in _EDIT_REQUIRED
    },
    # Fixed from the original: one array NULL and the other not is refused too.
    "ranges_match_transitions": "(video_ranges IS NULL AND video_transitions IS NULL) OR "
    "(video_ranges IS NOT NULL AND video_transitions IS NOT NULL AND "
    "json_array_length(video_ranges) = json_array_length(video_transitions) + 1)",
    "thumbnail_time_set": "thumbnail_time IS NOT NULL OR state = 'UNEDITED' "
    "OR thumbnail_mode IN ('NONE', 'CUSTOM')",
    "thumbnail_template_set": "thumbnail_template IS NOT NULL OR state = 'UNEDITED' "
    "OR thumbnail_mode <> 'TEMPLATE'",
    "thumbnail_image_set": "thumbnail_image IS NOT NULL OR state = 'UNEDITED' OR thumbnail_mode <> 'CUSTOM'",
    "thumbnail_written": "thumbnail_last_written IS NOT NULL OR state <> 'DONE' OR thumbnail_mode = 'NONE'",
    "thumbnail_crop_box": "thumbnail_crop IS NULL OR json_array_length(thumbnail_crop) = 4",
    "thumbnail_location_box": "thumbnail_location IS NULL OR json_array_length(thumbnail_location) = 4",
    "uploader_set": "uploader IS NOT NULL OR state NOT IN ('CLAIMED', 'FINALIZING', 'TRANSCODING')",
    "video_link_set": "video_link IS NOT NULL OR state NOT IN ('DONE', 'MODIFIED')",
    "editor_set": "editor IS NOT NULL OR state = 'UNEDITED'",
    "upload_time_set": "upload_time IS NOT NULL OR state NOT IN ('DONE', 'MODIFIED')",
    "last_modified_set": "last_modified IS NOT NULL OR state <> 'MODIFIED'",
}


def _event_columns_v1() -> list[sa.Column[object]]:
    """The original's columns (revision 1). Frozen: later changes go into new revisions."""
    text, ts, flag = sa.Text, sa.DateTime, sa.Boolean
    return [
        sa.Column("id", text, primary_key=True),
        sa.Column("sheet_name", text, nullable=False),
        sa.Column("event_start", ts),
        sa.Column("event_end", ts),
        sa.Column("event_end_dashed", flag, nullable=False, server_default=sa.false()),
        sa.Column("category", text, nullable=False, server_default=""),
        sa.Column("description", text, nullable=False, server_default=""),
        sa.Column("submitter_winner", text, nullable=False, server_default=""),
        sa.Column("poster_moment", flag, nullable=False, server_default=sa.false()),
        sa.Column("image_links", _json(), nullable=False, server_default="[]"),
        sa.Column("notes", text, nullable=False, server_default=""),
        sa.Column("tags", _json(), nullable=False, server_default="[]"),
        sa.Column("allow_holes", flag, nullable=False, server_default=sa.false()),
        sa.Column("uploader_whitelist", _json()),
        sa.Column("upload_location", text),
        sa.Column("public", flag, nullable=False, server_default=sa.true()),
        sa.Column("video_ranges", _json()),
        sa.Column("video_transitions", _json()),
        sa.Column("video_title", text),
        sa.Column("video_description", text),
        sa.Column("video_tags", _json()),
        sa.Column("video_channel", text),
        sa.Column("video_quality", text, nullable=False, server_default="source"),
        sa.Column("thumbnail_mode", text, nullable=False, server_default="TEMPLATE"),
        sa.Column("thumbnail_time", ts),
        sa.Column("thumbnail_template", text),
        sa.Column("thumbnail_image", sa.LargeBinary),
        sa.Column("thumbnail_last_written", sa.LargeBinary),
        sa.Column("thumbnail_crop", _json()),
        sa.Column("thumbnail_location", _json()),
        sa.Column("state", text, nullable=False, server_default="UNEDITED", index=True),
        sa.Column("uploader", text),
        sa.Column("error", text),
        sa.Column("video_id", text),
        sa.Column("video_link", text),
        sa.Column("editor", text),
        sa.Column("edit_time", ts),
        sa.Column("upload_time", ts),
        sa.Column("last_modified", ts),
    ]


def event_columns_v2() -> list[sa.Column[object]]:
    """Added by revision 2: the cutter's lease and the row version for optimistic concurrency."""
    return [
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("row_version", sa.Integer, nullable=False, server_default="1"),
    ]


def _other_tables_v1(metadata: sa.MetaData) -> None:
    text = sa.Text
    sa.Table(
        "nodes",
        metadata,
        sa.Column("name", text, primary_key=True),
        sa.Column("url", text, nullable=False),
        sa.Column("backfill_from", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    sa.Table(
        "roles",
        metadata,
        sa.Column("email", text, primary_key=True),
        sa.Column("name", text, nullable=False),
        sa.Column("editor", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("artist", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("email = lower(email)", name="roles_email_lower"),
    )
    sa.Table(
        "playlists",
        metadata,
        sa.Column("id", text, primary_key=True),
        sa.Column("name", text, nullable=False, server_default=""),
        sa.Column("description", text, nullable=False, server_default=""),
        sa.Column("tags", _json()),
        sa.Column("playlist_id", text, unique=True),
        sa.Column("show_in_description", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("first_event_id", text),
        sa.Column("last_event_id", text),
        sa.Column("default_template", text),
    )
    sa.Table(
        "templates",
        metadata,
        sa.Column("name", text, primary_key=True),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("description", text, nullable=False, server_default=""),
        sa.Column("attribution", text, nullable=False, server_default=""),
        sa.Column("crop", _json(), nullable=False),
        sa.Column("location", _json(), nullable=False),
        sa.CheckConstraint("json_array_length(crop) = 4", name="templates_crop_box"),
        sa.CheckConstraint("json_array_length(location) = 4", name="templates_location_box"),
    )


def _events_table(metadata: sa.MetaData, columns: list[sa.Column[object]]) -> sa.Table:
    checks = [sa.CheckConstraint(rule, name=f"events_{name}") for name, rule in EVENT_CHECKS.items()]
    table = sa.Table("events", metadata, *columns, *checks)
    sa.Index("events_event_start", table.c.event_start)
    return table


def editor_tokens_table(metadata: sa.MetaData) -> sa.Table:
    """Added by revision 2: operator-issued editor tokens, stored as SHA-256 hashes only."""
    return sa.Table(
        "editor_tokens",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("email", sa.Text, sa.ForeignKey("roles.email", ondelete="CASCADE"), nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("revoked", sa.DateTime),
    )


V1 = sa.MetaData()
_events_table(V1, _event_columns_v1())
_other_tables_v1(V1)

HEAD = sa.MetaData()
events = _events_table(HEAD, _event_columns_v1() + event_columns_v2())
_other_tables_v1(HEAD)
nodes = HEAD.tables["nodes"]
roles = HEAD.tables["roles"]
playlists = HEAD.tables["playlists"]
templates = HEAD.tables["templates"]
editor_tokens = editor_tokens_table(HEAD)
