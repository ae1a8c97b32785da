"""The restreamer's query parameters: how each is read and refused, and how `/openapi.json` documents it.

Plain dataclasses, not pydantic: six flat queries of strings and timestamps need no schema engine,
and a restreamer that never imports one stays ~6 MiB smaller (its memory budget is 80 MiB).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from wubloader.restreamer.errors import BadRequest, Forbidden
from wubloader.runtime.errors import BadTimestamp
from wubloader.runtime.timeparse import parse_utc_only
from wubloader.store.errors import UnsafePath
from wubloader.store.naming import check_component

if TYPE_CHECKING:
    from aiohttp import web

Q = TypeVar("Q")
# Request times outside [EARLIEST, LATEST) are refused before any date arithmetic could overflow
# (year 1 minus an hour, year 9999 plus a second); no stream is archived outside them.
EARLIEST_TIME = datetime(1970, 1, 1)
LATEST_TIME = datetime(9000, 1, 1)
# Longer path components cannot exist on Linux (NAME_MAX): refused before any filesystem call.
MAX_COMPONENT_BYTES = 255
TIMESTAMP_DESCRIPTION = "UTC ISO-8601 `YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM]`"
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_SIZE = re.compile(r"([0-9]{1,6})x([0-9]{1,6})")
_PARAM = "query_param"


def parse_request_time(text: str) -> datetime:
    """A request timestamp: UTC ISO-8601, fraction optional, an explicit offset honoured, within
    [EARLIEST_TIME, LATEST_TIME). BadTimestamp if it does not parse, BadRequest if out of range."""
    when = parse_utc_only(text)
    if not EARLIEST_TIME <= when < LATEST_TIME:
        years = f"{EARLIEST_TIME.year} to {LATEST_TIME.year - 1}"
        raise BadRequest(f"timestamp {text[:40]!r} is out of range ({years})")
    return when


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    """One query parameter. A value is text unless `timestamp`; `choices` or `pattern` (matched
    whole) restrict it; absent, it is `default` unless `required`."""

    description: str = ""
    required: bool = False
    default: str | None = None
    timestamp: bool = False
    choices: tuple[str, ...] = ()
    pattern: str | None = None

    def read(self, name: str, raw: str | None) -> Any:
        """The value of parameter `name` given as `raw` (None: absent); BadRequest if refused."""
        if raw is None:
            if self.required:
                raise BadRequest(f"bad {name}: required")
            return self.default
        if self.timestamp:
            try:
                return parse_request_time(raw)
            except BadTimestamp as exc:
                raise BadRequest(f"bad {name}: {exc}") from None
        if self.choices and raw not in self.choices:
            raise BadRequest(f"bad {name}: expected {' or '.join(map(repr, self.choices))}")
        if self.pattern is not None and re.fullmatch(self.pattern, raw) is None:
            raise BadRequest(f"bad {name}: {raw[:32]!r} does not match {self.pattern}")
        return raw

    def schema(self) -> dict[str, Any]:
        """The parameter's JSON schema for OpenAPI."""
        schema: dict[str, Any] = {"type": "string"}
        if self.timestamp:
            schema["format"] = "date-time"
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        if self.default is not None:
            schema["default"] = self.default
        return schema


def param(**spec: Any) -> Any:
    """A query dataclass field: `param(description=…, default=…, …)` (see `Param`); a timestamp's
    description says the format."""
    if spec.get("timestamp"):
        spec.setdefault("description", TIMESTAMP_DESCRIPTION)
    info = Param(**spec)
    if info.required:
        return field(metadata={_PARAM: info})
    return field(default=info.default, metadata={_PARAM: info})


def query_params(model: type) -> list[tuple[str, Param]]:
    """Each parameter of a query dataclass, in order."""
    return [(f.name, f.metadata[_PARAM]) for f in dataclasses.fields(model)]


@dataclass(frozen=True, slots=True, kw_only=True)
class TombstonesQuery:
    tombstones: str = param(default="false", choices=("true", "false"),
                            description="also list `.tombstone` names (`true` or `false`)")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeQuery:
    start: datetime | None = param(timestamp=True)
    end: datetime | None = param(timestamp=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class WaveformQuery:
    start: datetime = param(timestamp=True, required=True)
    end: datetime = param(timestamp=True, required=True)
    size: str = param(default="1024x64", pattern=r"^[0-9]{1,6}x[0-9]{1,6}$",
                      description="WIDTHxHEIGHT in pixels")  # fmt: skip

    def dimensions(self) -> tuple[int, int]:
        match = _SIZE.fullmatch(self.size)
        if match is None:  # the pattern above already guarantees this
            raise BadRequest(f"bad size {self.size[:32]!r}: expected WIDTHxHEIGHT")
        return int(match[1]), int(match[2])


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameQuery:
    timestamp: datetime = param(timestamp=True, required=True)


NAME_LIST_SCHEMA: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
# Media responses (segments, cuts, images) are raw bytes.
BINARY_SCHEMA: dict[str, str] = {"type": "string", "format": "binary"}


def parse_query(request: web.Request, model: type[Q]) -> Q:
    """Read the query string into `model` (a query dataclass); unknown parameters are ignored (HLS
    clients add their own), a repeated one is a 400, never a silent pick.

    Raises BadRequest (400).
    """
    given: dict[str, str] = {}
    for key, value in request.query.items():
        if key in given:
            raise BadRequest(f"parameter {key[:32]!r} given more than once")
        given[key] = value
    return model(**{name: spec.read(name, given.get(name)) for name, spec in query_params(model)})


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
