"""Errors of the operator maintenance commands.

Hierarchy::

    WubloaderError
    └── MaintenanceError
        ├── UsageError       the operator's input is unusable (exit 2, nothing changed)
        └── PeerError        a peer could not be asked, or answered something that is not a listing
"""

from __future__ import annotations

from wubloader.errors import WubloaderError


class MaintenanceError(WubloaderError):
    """A maintenance command could not do what it was asked."""


class UsageError(MaintenanceError):
    """Bad operator input (a range with start after end, an unknown channel…); nothing was changed."""


class PeerError(MaintenanceError):
    """A peer did not answer a listing usefully; `url` is the peer's base URL."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url
