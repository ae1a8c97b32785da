"""Strict reading of JSON config objects: every key known, every value of the expected type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from wubloader.cutter.errors import LocationsError

if TYPE_CHECKING:
    from collections.abc import Mapping

T = TypeVar("T")
_TYPE_NAMES = {str: "a string", bool: "true/false", int: "an integer", list: "a list", dict: "an object"}


def check_keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Raise LocationsError naming the first key of `raw` not in `allowed`."""
    for key in raw:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise LocationsError(f"{where}: unknown key {key!r} (known: {known})")


def field(raw: Mapping[str, Any], key: str, kind: type[T], where: str, default: T | None = None) -> T | None:
    """`raw[key]` if it has type `kind` (bool is not an int here), `default` when absent or null."""
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise LocationsError(f"{where}: {key!r} must be {_TYPE_NAMES.get(kind, kind.__name__)}")
    return value


def required(raw: Mapping[str, Any], key: str, kind: type[T], where: str) -> T:
    """Like `field`, but a missing key is an error."""
    value = field(raw, key, kind, where)
    if value is None:
        raise LocationsError(f"{where}: {key!r} is required")
    return value


def string_list(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    """A list of strings, as a tuple; None when absent."""
    value = field(raw, key, list, where)
    if value is None:
        return None
    if not all(isinstance(item, str) for item in value):
        raise LocationsError(f"{where}: {key!r} must be a list of strings")
    return tuple(value)
