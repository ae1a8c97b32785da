"""Errors raised by the segment store.

WubloaderError
└── StoreError
    ├── BadSegmentName (also ValueError)
    ├── NoSegments
    ├── ContainsHoles
    ├── HashMismatch
    └── UnsafePath
"""

from wubloader.errors import WubloaderError


class StoreError(WubloaderError):
    """Something about the segment store or a request against it is wrong."""


class BadSegmentName(StoreError, ValueError):
    """A path or file name is not a valid segment name."""


class NoSegments(StoreError):
    """The requested range holds no segments at all."""


class ContainsHoles(StoreError):
    """The requested range has a hole and the caller did not allow holes."""


class HashMismatch(StoreError):
    """Written bytes do not hash to the hash their name promises; nothing was kept."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"hash mismatch: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class UnsafePath(StoreError):
    """A path component from outside (e.g. a request) could escape or reveal the store."""
