"""Errors raised by the downloader and its stream providers.

Hierarchy::

    WubloaderError
    └── DownloaderError
        ├── ProviderError          the provider's API answered something unusable (retry with backoff; alert)
        │   └── StreamOffline      the stream is not live right now (keep checking)
        └── QualityUnavailable     a requested quality is not offered (retry on the next master fetch)
"""

from __future__ import annotations

from wubloader.errors import WubloaderError


class DownloaderError(WubloaderError):
    """Base of the downloader's own errors; all are retryable by polling again later."""


class ProviderError(DownloaderError):
    """A provider API answered with something unexpected: distinct from "offline" so it can be alerted on."""


class StreamOffline(ProviderError):
    """The stream is not live (usher/master playlist 404); the downloader keeps checking."""


class QualityUnavailable(DownloaderError):
    """A requested quality is not in the master playlist."""
