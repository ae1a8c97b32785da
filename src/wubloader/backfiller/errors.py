"""Errors raised by the backfiller.

WubloaderError
└── BackfillerError
    ├── BadPeerListing     a peer answered a listing with something that is not a JSON list of names
    ├── NodeListError      the node list (file, database) could not be read
    └── PeerPaused         the peer's breaker opened while a transfer waited for it
"""

from wubloader.errors import WubloaderError


class BackfillerError(WubloaderError):
    """Something went wrong replicating from peers."""


class BadPeerListing(BackfillerError):
    """A peer's `/files/...` answer is not a JSON list of strings; the peer is treated as failing."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class NodeListError(BackfillerError):
    """The list of peer nodes could not be read; the previous list stays in use."""


class PeerPaused(BackfillerError):
    """The peer was paused (circuit-breaker) while a transfer queued for it; try another peer."""
