"""A test template: 128x72 opaque green with a transparent window (64, 0)-(128, 36)."""

from __future__ import annotations

import io

from PIL import Image

from wubloader.db.database import Database
from wubloader.db.templates import Template, add_template

WINDOW = (64, 0, 128, 36)


def template_png() -> bytes:
    image = Image.new("RGBA", (128, 72), (0, 255, 0, 255))
    image.paste((0, 0, 0, 0), WINDOW)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def add_test_template(database: Database, name: str = "green") -> None:
    """Store the template; its default crop is the top-left quarter of a 320x180 frame."""
    template = Template(name=name, description="", attribution="", crop=(0, 0, 160, 90), location=WINDOW,
                        image=template_png())  # fmt: skip
    with database.transaction() as conn:
        assert add_template(conn, template)
