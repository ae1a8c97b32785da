"""Thumbnail templates from the database, as composition inputs (shared by the cutter and the restreamer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wubloader.db.templates import get_template
from wubloader.thumbnails.boxes import Template, box_from
from wubloader.thumbnails.errors import UnknownTemplate

if TYPE_CHECKING:
    from wubloader.db.database import Database


async def load_template(database: Database, name: str) -> Template:
    """The named template with its image; UnknownTemplate if there is none, BadBox for broken boxes."""
    row = await database.run(get_template, name, with_image=True)
    if row is None or row.image is None:
        raise UnknownTemplate(f"no thumbnail template named {name[:64]!r}")
    return Template(image=row.image, crop=box_from(row.crop), location=box_from(row.location))
