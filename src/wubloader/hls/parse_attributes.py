"""HLS attribute lists (`KEY=VALUE,KEY="quoted, value"`) and the small typed values inside them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from wubloader.errors import WubloaderError

if TYPE_CHECKING:
    from collections.abc import Iterator

# One attribute: a name, `=`, then a quoted string (commas allowed inside) or a bare token.
_ATTRIBUTE_RE = re.compile(r'\s*([A-Za-z0-9-]+)=("[^"\r\n]*"|[^",\s]*)\s*(?:,|$)')


class PlaylistParseError(WubloaderError, ValueError):
    """A playlist is malformed; `line` is the 1-based line number (0 when not tied to one line).

    Retryable by the caller: a live playlist is usually fixed by the next poll.
    """

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.detail = message


class ImplausibleValue(PlaylistParseError):
    """A well-formed value no live stream can have (a 1e11 s EXTINF, a day-long ad): refused, counted."""


def parse_attribute_list(text: str, line: int = 0) -> dict[str, str]:
    """Parse an attribute list into {NAME: value}; quoted values lose their quotes.

    Raises PlaylistParseError when the text is not a sequence of `NAME=VALUE` separated by commas.
    A repeated name keeps its last value.
    """
    result: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _ATTRIBUTE_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise PlaylistParseError(f"bad attribute list near {text[pos : pos + 40]!r}", line)
        value = match[2]
        if value.startswith('"'):
            value = value[1:-1]
        result[match[1].upper()] = value
        pos = match.end()
    return result


def parse_int(text: str, what: str, line: int) -> int:
    """A non-negative decimal integer, as HLS `decimal-integer` requires."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        raise PlaylistParseError(f"{what} is not a non-negative integer: {text[:40]!r}", line)
    return int(text)


def parse_float(text: str, what: str, line: int) -> float:
    """A finite, non-negative decimal number (`2`, `2.002`)."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        raise PlaylistParseError(f"{what} is not a number: {text[:40]!r}", line) from None
    if not (value >= 0 and value != float("inf")) or not text.replace(".", "", 1).isdigit():
        raise PlaylistParseError(f"{what} must be a finite non-negative decimal: {text[:40]!r}", line)
    return value


def parse_resolution(text: str, line: int) -> tuple[int, int]:
    """`1280x720` → (1280, 720)."""
    width, sep, height = text.lower().partition("x")
    if not sep:
        raise PlaylistParseError(f"bad RESOLUTION {text[:40]!r}", line)
    return parse_int(width, "RESOLUTION width", line), parse_int(height, "RESOLUTION height", line)


def parse_byterange_text(text: str, line: int) -> tuple[int, int | None]:
    """`LENGTH[@OFFSET]` → (length, offset or None)."""
    length, sep, offset = text.strip().partition("@")
    return (
        parse_int(length, "BYTERANGE length", line),
        parse_int(offset, "BYTERANGE offset", line) if sep else None,
    )


def playlist_lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered, stripped, non-empty lines; the first must be `#EXTM3U`."""
    if not text.strip():
        raise PlaylistParseError("empty playlist")
    first = True
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if first:
            if not line.startswith("#EXTM3U"):
                raise PlaylistParseError("playlist does not start with #EXTM3U", number)
            first = False
            continue
        yield number, line


def split_tag(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name.upper(), value
