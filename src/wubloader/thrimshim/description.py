"""Titles and descriptions as stored vs as edited: the title header, playlist links, credit and footer.

POST stores `prefix + title` and `description + block`; GET strips exactly that again, so an editor
that sends back what it got changes nothing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from wubloader.db.playlists import Playlist

PLAYLIST_HEADER = "This video is part of the following playlists:"
CREDIT_PREFIX = "Thumbnail Credit: "
PLAYLIST_URL = "https://youtube.com/playlist?list="


def compose_title(prefix: str, title: str) -> str:
    return prefix + title


def strip_title(prefix: str, title: str) -> str:
    return title.removeprefix(prefix) if prefix else title


def listed_playlists(playlists: Iterable[Playlist], video_tags: Iterable[str]) -> list[Playlist]:
    """Playlists shown in a description: those with `show_in_description`, an id, and non-empty tags
    all among the video's tags (case-insensitive). Fixed from the original: the editor's `video_tags`
    decide (not the sheet's), and an empty tag list no longer matches every video."""
    wanted = {tag.lower() for tag in video_tags}
    return [
        p
        for p in playlists
        if p.show_in_description and p.playlist_id and p.tags and all(tag.lower() in wanted for tag in p.tags)
    ]


def compose_description(
    description: str, *, playlists: Iterable[Playlist], credit: str | None, footer: str
) -> str:
    """`description`, a blank line, then the playlists block, the thumbnail credit and the footer."""
    lines = []
    listed = list(playlists)
    if listed:
        lines.append(PLAYLIST_HEADER + "\n")
        lines.extend(f"- {p.name} [{PLAYLIST_URL}{p.playlist_id}]\n" for p in listed)
        lines.append("\n")
    if credit:
        lines.append(CREDIT_PREFIX + credit + "\n")
    return description + "\n\n" + "".join(lines) + footer


def strip_description(text: str, footer: str) -> str:
    """Undo `compose_description`; text that was not composed that way is returned unchanged."""
    pattern = (
        r"\n\n(?:"
        + re.escape(PLAYLIST_HEADER)
        + r"\n(?:- [^\n]* \["
        + re.escape(PLAYLIST_URL)
        + r"[^\]\n]+\]\n)+\n)?(?:"
        + re.escape(CREDIT_PREFIX)
        + r"[^\n]*\n)?"
        + re.escape(footer)
        + r"\Z"
    )
    match = re.search(pattern, text)
    return text[: match.start()] if match else text
