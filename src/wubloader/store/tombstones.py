"""Tombstones an operator adds: the tombstone, its hidden note (reason, who, when) and the files it hides.

The tombstone keeps its plain `STEM.tombstone` name, so original nodes still understand it; the note
lives beside it under a hidden name (`.STEM.tombstone.json`) that no listing shows or replicates.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from wubloader.store.listing import create_tombstone
from wubloader.store.naming import SEGMENT_SUFFIX, TOMBSTONE_SUFFIX, tombstone_name

if TYPE_CHECKING:
    from pathlib import Path

NOTE_SUFFIX = ".json"


@dataclass(frozen=True, slots=True, kw_only=True)
class TombstoneNote:
    """Why a tombstone exists: free text, the operator (login name) and when (naive UTC)."""

    reason: str
    who: str
    when: datetime


def note_path(tombstone: Path) -> Path:
    """The hidden note beside `tombstone`."""
    return tombstone.with_name(f".{tombstone.name}{NOTE_SUFFIX}")


def add_tombstone(segment: Path, note: TombstoneNote) -> bool:
    """Tombstone `segment` (which need not exist locally); False if it already was.

    The note is written first, so a tombstone this function made always has one.
    """
    tombstone = segment.with_name(tombstone_name(segment.name))
    if tombstone.exists():
        return False
    segment.parent.mkdir(parents=True, exist_ok=True)
    data = {"reason": note.reason, "who": note.who, "when": note.when.isoformat()}
    note_path(tombstone).write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
    create_tombstone(segment)
    return True


def read_note(tombstone: Path) -> TombstoneNote | None:
    """The note of `tombstone`, or None if it has none (e.g. it came by backfill) or it is unreadable."""
    try:
        data = json.loads(note_path(tombstone).read_text(encoding="utf-8"))
        return TombstoneNote(
            reason=str(data["reason"]), who=str(data["who"]), when=datetime.fromisoformat(data["when"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def hidden_segment_name(tombstone: str) -> str:
    """`STEM.tombstone` → `STEM.ts`, the segment file it hides."""
    return tombstone[: -len(TOMBSTONE_SUFFIX)] + SEGMENT_SUFFIX


def tombstone_names(hour_dir: Path) -> list[str]:
    """The (visible) tombstone names of one hour directory, sorted; [] if there is no such directory."""
    try:
        names = os.listdir(hour_dir)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(n for n in names if n.endswith(TOMBSTONE_SUFFIX) and not n.startswith("."))
