"""What thrimshim's handlers share (config, database, authenticator, clock), and request-reading helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from wubloader.thrimshim.errors import BadRequest
from wubloader.thrimshim.list_cache import EventListCache
from wubloader.thrimshim.schemas import parse_json_object

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from wubloader.db.database import Database
    from wubloader.thrimshim.auth import Authenticator
    from wubloader.thrimshim.config import ThrimshimConfig

M = TypeVar("M", bound=BaseModel)
MAX_ID_LENGTH = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrimshimState:
    config: ThrimshimConfig
    database: Database
    auth: Authenticator
    now: Callable[[], datetime]
    listing: EventListCache = field(default_factory=EventListCache)


STATE = web.AppKey("thrimshim_state", ThrimshimState)


def state_of(request: web.Request) -> ThrimshimState:
    return request.app[STATE]


def path_arg(request: web.Request, name: str) -> str:
    """A path argument, refused (400) if empty, too long or holding control characters."""
    value = request.match_info[name]
    if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise BadRequest(f"bad {name}: expected 1 to {MAX_ID_LENGTH} printable characters")
    return value


async def read_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The JSON object body (size capped by the app's client_max_size → 413); {} if `optional` and empty."""
    raw = await request.read()
    if optional and not raw.strip():
        return {}
    return parse_json_object(raw)


def query_model(request: web.Request, model: type[M]) -> M:
    """The query string validated by `model` (a repeated parameter counts once: the first)."""
    values: dict[str, str] = {}
    for key, value in request.query.items():
        values.setdefault(key, value)
    return model.model_validate(values)
