"""The locations file: per upload location its backend type, cut type, roles and backend options.

Format (one JSON object, location name → settings)::

    {"desktop": {"type": "local", "cut_type": "smart", "path": "/srv/videos", "url_prefix": "https://…/"},
     "youtube": {"type": "youtube", "cut_type": "full", "encode_args": ["-c:v", "libx264", …]}}

`cut_type` fast | smart | full (default full; `local-archive` always cuts rough, whole segments);
`no_uploader` (only update/check, never cut), `no_updater` (no VideoUpdater); other keys belong to
the backend and are checked by it. Any unknown key or type is a start-up error.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wubloader.cutter.backend_local import LocalOptions
from wubloader.cutter.backend_youtube import YouTubeOptions
from wubloader.cutter.errors import LocationsError
from wubloader.cutter.json_fields import field, string_list
from wubloader.media.cut_engine import MPEGTS_ARGS
from wubloader.media.cut_plan import CutType

if TYPE_CHECKING:
    from pathlib import Path

COMMON_KEYS = ("type", "cut_type", "no_uploader", "no_updater", "encode_args")


class BackendType(enum.StrEnum):
    """The backends a location can use."""

    LOCAL = "local"
    LOCAL_ARCHIVE = "local-archive"
    YOUTUBE = "youtube"


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """One upload location. `options` is the backend's own options record."""

    name: str
    type: BackendType
    cut_type: CutType
    encode_args: tuple[str, ...]
    no_uploader: bool
    no_updater: bool
    options: LocalOptions | YouTubeOptions


def _backend_type(raw: dict[str, Any], where: str) -> BackendType:
    text = raw.get("type")
    try:
        return BackendType(str(text))
    except ValueError:
        known = ", ".join(t.value for t in BackendType)
        raise LocationsError(f"{where}: 'type' must be one of {known}, got {text!r}") from None


def _cut_type(raw: dict[str, Any], kind: BackendType, where: str) -> CutType:
    if kind is BackendType.LOCAL_ARCHIVE:
        if raw.get("cut_type") not in (None, "rough"):
            raise LocationsError(f"{where}: local-archive always keeps whole segments (no 'cut_type')")
        return CutType.ROUGH
    text = field(raw, "cut_type", str, where, "full")
    if text not in ("fast", "smart", "full"):
        raise LocationsError(f"{where}: 'cut_type' must be fast, smart or full, got {text!r}")
    return CutType(text)


def parse_location(name: str, raw: object) -> Location:
    """One location's settings; LocationsError on anything unknown or mistyped."""
    where = f"location {name!r}"
    if not isinstance(raw, dict):
        raise LocationsError(f"{where}: must be a JSON object")
    kind = _backend_type(raw, where)
    backend_raw = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
    options: LocalOptions | YouTubeOptions
    if kind is BackendType.YOUTUBE:
        options = YouTubeOptions.from_json(backend_raw, where)
    else:
        options = LocalOptions.from_json(backend_raw, where)
    return Location(
        name=name,
        type=kind,
        cut_type=_cut_type(raw, kind, where),
        encode_args=string_list(raw, "encode_args", where) or MPEGTS_ARGS,
        no_uploader=field(raw, "no_uploader", bool, where, False) is True,
        no_updater=field(raw, "no_updater", bool, where, False) is True,
        options=options,
    )


def parse_locations(text: str, source: str = "locations") -> dict[str, Location]:
    """All locations of a locations JSON document (at least one)."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise LocationsError(f"{source}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or not raw:
        raise LocationsError(f"{source}: must be a JSON object with at least one location")
    return {name: parse_location(name, value) for name, value in raw.items()}


def read_locations(path: Path) -> dict[str, Location]:
    """`parse_locations` of a file; an unreadable file is a LocationsError too."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise LocationsError(f"--locations {path}: {exc.strerror or exc}") from exc
    return parse_locations(text, f"--locations {path}")
