"""Pydantic models of the restreamer's query parameters and responses (validation + OpenAPI schemas)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from wubloader.restreamer.errors import BadRequest, Forbidden
from wubloader.runtime.timeparse import parse_utc_only
from wubloader.store.errors import UnsafePath
from wubloader.store.naming import check_component

if TYPE_CHECKING:
    from aiohttp import web

M = TypeVar("M", bound=BaseModel)
# Request times outside [EARLIEST, LATEST) are refused before any date arithmetic could overflow
# (year 1 minus an hour, year 9999 plus a second); no stream is archived outside them.
EARLIEST_TIME = datetime(1970, 1, 1)
LATEST_TIME = datetime(9000, 1, 1)
# Longer path components cannot exist on Linux (NAME_MAX): refused before any filesystem call.
MAX_COMPONENT_BYTES = 255
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_SIZE = re.compile(r"([0-9]{1,6})x([0-9]{1,6})")


def _timestamp(value: Any) -> Any:
    """Strict request timestamps: UTC ISO-8601, fraction optional, an explicit offset honoured."""
    return parse_request_time(value) if isinstance(value, str) else value


def parse_request_time(text: str) -> datetime:
    """A request timestamp (see `_timestamp`) within [EARLIEST_TIME, LATEST_TIME); BadRequest if not."""
    when = parse_utc_only(text)
    if not EARLIEST_TIME <= when < LATEST_TIME:
        years = f"{EARLIEST_TIME.year} to {LATEST_TIME.year - 1}"
        raise BadRequest(f"timestamp {text[:40]!r} is out of range ({years})")
    return when


UtcTimestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    Field(description="UTC ISO-8601 `YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM]`"),
]


class QueryModel(BaseModel):
    """Base of query models: unknown parameters are ignored (HLS clients add their own)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class TombstonesQuery(QueryModel):
    tombstones: Literal["true", "false"] = Field(
        "false", description="also list `.tombstone` names (`true` or `false`)"
    )


class RangeQuery(QueryModel):
    start: UtcTimestamp | None = None
    end: UtcTimestamp | None = None


class WaveformQuery(QueryModel):
    start: UtcTimestamp
    end: UtcTimestamp
    size: str = Field("1024x64", pattern=r"^[0-9]{1,6}x[0-9]{1,6}$", description="WIDTHxHEIGHT in pixels")

    def dimensions(self) -> tuple[int, int]:
        match = _SIZE.fullmatch(self.size)
        if match is None:  # the pattern above already guarantees this
            raise BadRequest(f"bad size {self.size[:32]!r}: expected WIDTHxHEIGHT")
        return int(match[1]), int(match[2])


class FrameQuery(QueryModel):
    timestamp: UtcTimestamp


NAME_LIST = TypeAdapter(list[str])
NAME_LIST_SCHEMA = NAME_LIST.json_schema()
# Media responses (segments, cuts, images) are raw bytes.
BINARY_SCHEMA: dict[str, str] = {"type": "string", "format": "binary"}


def parse_query(request: web.Request, model: type[M]) -> M:
    """Validate the query string against `model`; a repeated parameter is a 400, never a silent pick.

    Raises pydantic.ValidationError or BadRequest (both mapped to 400).
    """
    query = request.query
    data: dict[str, str] = {}
    for key, value in query.items():
        if key in data:
            raise BadRequest(f"parameter {key[:32]!r} given more than once")
        data[key] = value
    return model.model_validate(data)


def path_arg(request: web.Request, key: str) -> str:
    """A path argument that is safe as one store path component.

    BadRequest if it was not valid UTF-8 (aiohttp then keeps the `%XX` escapes, or decodes them
    to U+FFFD; store names never contain `%XX`, so a leftover escape is refused too) or longer
    than a file name can be (MAX_COMPONENT_BYTES). Forbidden
    if it is empty, hidden (leading `.`) or contains `/`, `\\`, NUL or non-printables.
    """
    value = request.match_info[key]
    if "\ufffd" in value or _ESCAPE.search(value):
        raise BadRequest(f"{key} is not valid UTF-8")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES:
        raise BadRequest(f"{key} is longer than {MAX_COMPONENT_BYTES} bytes")
    try:
        return check_component(value)
    except UnsafePath:
        raise Forbidden(f"bad {key}: may not start with a period or contain / \\ NUL") from None
