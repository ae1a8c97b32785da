"""Queries of the `templates` table: thumbnail template PNGs and where the video frame goes on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from wubloader.db.schema import templates

if TYPE_CHECKING:
    from wubloader.db.event_records import Box

_META = [c for c in templates.c if c.name != "image"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A template; `image` is None when only the metadata was read."""

    name: str
    description: str
    attribution: str
    crop: Box
    location: Box
    image: bytes | None = None


def _template(row: sa.RowMapping) -> Template:
    values = dict(row)
    image = values.pop("image", None)
    return Template(
        **{**values, "crop": tuple(values["crop"]), "location": tuple(values["location"])},
        image=None if image is None else bytes(image),
    )


def list_templates(connection: sa.Connection) -> list[Template]:
    """Every template's metadata (no image bytes), by name."""
    rows = connection.execute(sa.select(*_META).order_by(templates.c.name)).mappings()
    return [_template(row) for row in rows]


def get_template(connection: sa.Connection, name: str, *, with_image: bool = False) -> Template | None:
    columns = list(templates.c) if with_image else _META
    row = connection.execute(sa.select(*columns).where(templates.c.name == name)).mappings().first()
    return None if row is None else _template(row)


def add_template(connection: sa.Connection, template: Template) -> bool:
    """Insert a new template; False if the name is taken."""
    if get_template(connection, template.name) is not None:
        return False
    connection.execute(
        sa.insert(templates).values(
            name=template.name,
            image=template.image,
            description=template.description,
            attribution=template.attribution,
            crop=list(template.crop),
            location=list(template.location),
        )
    )
    return True


def update_template(connection: sa.Connection, old_name: str, template: Template) -> bool:
    """Replace `old_name`'s metadata (and image, unless `template.image` is None), maybe renaming it.

    False if `old_name` does not exist. A rename onto an existing name raises ConstraintViolation.
    """
    values = {
        "name": template.name,
        "description": template.description,
        "attribution": template.attribution,
        "crop": list(template.crop),
        "location": list(template.location),
    }
    if template.image is not None:
        values["image"] = template.image
    result = connection.execute(sa.update(templates).where(templates.c.name == old_name).values(**values))
    return bool(result.rowcount)
