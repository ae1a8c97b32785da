"""Parsing HLS master and media playlists into typed records (pure: no I/O, no fetching).

Lenient per line: a bad tag or a segment whose lines are bad is skipped with a warning naming the
line, and every other segment is kept (one bad line must never lose a whole poll). Only text that
is not a media playlist at all raises PlaylistParseError. `MediaPlaylistParser` re-parses only
what was appended since its previous call, so polling a growing EVENT playlist costs O(new lines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wubloader.hls.parse_attributes import PlaylistParseError
from wubloader.hls.parse_master import is_master_playlist, parse_master_playlist
from wubloader.hls.parse_media import MediaState

if TYPE_CHECKING:
    from collections.abc import Iterator

    from wubloader.hls.parse_records import MediaPlaylist

__all__ = [
    "MediaPlaylistParser",
    "PlaylistParseError",
    "is_master_playlist",
    "parse_master_playlist",
    "parse_media_playlist",
]


class MediaPlaylistParser:
    """Parses successive versions of one media playlist URL, re-reading only what was appended.

    A live EVENT playlist only grows: when a new text starts with the previously parsed one (up to
    its last line break), parsing continues from there. Any other change parses from scratch.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._consumed = ""
        self._state: MediaState | None = None

    def parse(self, text: str) -> MediaPlaylist:
        """Parse `text`; raises PlaylistParseError only for text that is not a media playlist."""
        state = self._state
        if state is not None and text.startswith(self._consumed):
            unchanged, new = len(state.segments), text[len(self._consumed) :]
        else:
            self._state = None
            new, lines = _after_header(text)
            state, unchanged = MediaState(self.base_url), 0
            state.lines = lines
        if is_master_playlist(new):
            raise PlaylistParseError("expected a media playlist, got a master playlist")
        before = len(state.warnings)
        complete = new.rfind("\n") + 1
        state.feed(_numbered(new[:complete], state))
        self._consumed, self._state = text[: len(text) - len(new) + complete], state
        if new[complete:].strip():
            # A last line without a line break (perhaps still being written): parsed on a copy.
            tail = state.copy()
            tail.feed(_numbered(new[complete:], tail))
            return tail.result(tail.warnings[before:], unchanged)
        return state.result(state.warnings[before:], unchanged)


def _after_header(text: str) -> tuple[str, int]:
    """The text after the `#EXTM3U` line, and the number of lines up to and including it."""
    if not text.strip():
        raise PlaylistParseError("empty playlist")
    offset = 0
    number = 0
    while True:
        end = text.find("\n", offset)
        line = text[offset : end if end >= 0 else len(text)].strip().lstrip("\ufeff")
        number += 1
        if line:
            if not line.startswith("#EXTM3U"):
                raise PlaylistParseError("playlist does not start with #EXTM3U", number)
            return (text[end + 1 :] if end >= 0 else ""), number
        offset = end + 1


def _numbered(text: str, state: MediaState) -> Iterator[tuple[int, str]]:
    """Numbered non-empty stripped lines of `text`, counting on from the state's line count."""
    if not text:
        return
    for raw in (text[:-1] if text.endswith("\n") else text).split("\n"):
        state.lines += 1
        line = raw.strip()
        if line:
            yield state.lines, line


def parse_media_playlist(text: str, base_url: str) -> MediaPlaylist:
    """Parse a whole media playlist; relative URIs resolve against `base_url` (the final fetched URL).

    Raises PlaylistParseError for text that is not a media playlist (empty, no #EXTM3U, a master
    playlist); bad lines are skipped and listed in `warnings`.
    """
    return MediaPlaylistParser(base_url).parse(text)
