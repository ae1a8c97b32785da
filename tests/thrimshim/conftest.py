"""Thrimshim tests: the real app in-process over a real database (both engines), with real credentials."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from wubloader.db import events, roles, templates, tokens
from wubloader.db.event_records import SheetEvent
from wubloader.db.templates import Template
from wubloader.thrimshim.app import create_app
from wubloader.thrimshim.config import ThrimshimConfig


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


NOW = datetime(2024, 12, 1, 12, 0, 0)
T0 = datetime(2024, 11, 10, 3, 0, 0)
LOCATIONS = ("local", "youtube")
PNG = png_bytes(8, 4)


@dataclass(frozen=True)
class Seeded:
    editor: str
    artist: str
    nobody: str


def seed(database) -> Seeded:
    """Roles with a token each, one template, and event `ev1` as a sheet would create it."""
    issued = {}
    with database.transaction() as conn:
        for email, editor, artist in [
            ("ed@example.org", True, False),
            ("art@example.org", False, True),
            ("nobody@example.org", False, False),
        ]:
            roles.put_role(
                conn, roles.RoleRow(email=email, name=email.split("@")[0], editor=editor, artist=artist)
            )
            issued[email] = tokens.add_token(conn, email, now=NOW)[0]
        templates.add_template(
            conn,
            Template(
                name="standard",
                description="d",
                attribution="Art by A",
                crop=(0, 0, 1920, 1080),
                location=(100, 100, 740, 460),
                image=PNG,
            ),
        )
        events.insert_event(
            conn,
            SheetEvent(
                id="ev1",
                sheet_name="Tuesday",
                event_start=T0,
                event_end=T0 + timedelta(hours=1),
                category="Chat",
                description="Desc",
                tags=("x",),
            ),
        )
    return Seeded(
        editor=issued["ed@example.org"], artist=issued["art@example.org"], nobody=issued["nobody@example.org"]
    )


@pytest.fixture
def seeded(database) -> Seeded:
    return seed(database)


@pytest.fixture
async def make_client(database):
    """`await make_client(**config)` → a TestClient of the real app over `database`."""
    clients: list[TestClient] = []

    async def make(**overrides) -> TestClient:
        settings = {
            "db_url": database.url,
            "upload_locations": LOCATIONS,
            "title_header": "DB2024",
            "description_footer": "Footer text",
            "default_channel": "desertbus",
            **overrides,
        }
        app = create_app(ThrimshimConfig(**settings), database, now=lambda: NOW)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client, seeded):
    return await make_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def edit_body(**overrides) -> dict:
    """A complete, valid submission of ev1 (as the editor would send it)."""
    body = {
        "sheet_name": "Tuesday",
        "event_start": T0.isoformat(),
        "event_end": (T0 + timedelta(hours=1)).isoformat(),
        "category": "Chat",
        "description": "Desc",
        "notes": "",
        "tags": ["x"],
        "upload_location": "local",
        "video_channel": "desertbus",
        "video_quality": "source",
        "video_ranges": [
            ["2024-11-10T03:05:00Z", "2024-11-10T03:10:00.5Z"],
            ["2024-11-10T03:20:00", "2024-11-10T03:25:00"],
        ],
        "video_transitions": [["fade", 1.5]],
        "video_title": "My video",
        "video_description": "About it",
        "video_tags": ["x", "y"],
        "thumbnail_mode": "TEMPLATE",
        "thumbnail_time": "2024-11-10T03:06:00",
        "thumbnail_template": "standard",
        "thumbnail_crop": [0, 0, 1920, 1080],
        "thumbnail_location": [1, 2, 3, 4],
        "public": True,
        "allow_holes": False,
        "uploader_whitelist": None,
        "state": "EDITED",
    }
    body.update(overrides)
    return body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sheet_json(event) -> dict:
    """The sheet columns of a stored event as the editor would send them back."""
    sheet = event.sheet
    stamp = lambda value: None if value is None else value.isoformat()  # noqa: E731
    return {
        "sheet_name": sheet.sheet_name,
        "event_start": stamp(sheet.event_start),
        "event_end": stamp(sheet.event_end),
        "category": sheet.category,
        "description": sheet.description,
        "notes": sheet.notes,
        "tags": list(sheet.tags),
    }
