"""The cutter's configuration record, built once from the command line in app.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.runtime.config import check_base_dir
from wubloader.runtime.errors import RuntimeConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from wubloader.cutter.locations import Location


@dataclass(frozen=True, slots=True, kw_only=True)
class CutterConfig:
    """Who this cutter is, what it serves and how it paces itself.

    `lease`: seconds a claim lasts unless renewed (renewed every lease/3); `poll_interval`: how often
    candidates are re-listed without a NOTIFY; `drain_timeout`: how long running jobs may finish
    after a stop before they are cancelled and released.
    """

    base_dir: Path
    name: str
    locations: dict[str, Location]
    jobs: int = 1
    lease: float = 60.0
    tags: tuple[str, ...] = ()
    explicit_only: bool = False
    once: bool = False
    poll_interval: float = 5.0
    check_interval: float = 1.0
    drain_timeout: float = 60.0
    retry_pause: float = 5.0

    def __post_init__(self) -> None:
        check_base_dir(self.base_dir)
        if not self.name or not self.name.isprintable():
            raise RuntimeConfigError("--name must be a non-empty printable name")
        if self.jobs < 1:
            raise RuntimeConfigError("--jobs must be at least 1")
        if self.lease < 3:
            raise RuntimeConfigError("--lease must be at least 3 seconds")
        if self.poll_interval <= 0 or self.check_interval <= 0:
            raise RuntimeConfigError("intervals must be positive")

    @property
    def uploading_locations(self) -> tuple[str, ...]:
        """Locations this cutter cuts for (not `no_uploader`)."""
        return tuple(name for name, loc in self.locations.items() if not loc.no_uploader)
