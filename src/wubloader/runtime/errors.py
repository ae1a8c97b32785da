"""Errors raised by runtime/: configuration, timestamps, listening sockets and HTTP fetches.

Hierarchy::

    WubloaderError
    ├── RuntimeConfigError (ValueError)   a config value, CLI flag or env variable is unusable
    ├── BadTimestamp (ValueError)         a timestamp string does not parse (maps to HTTP 400)
    ├── ListenError                       a server could not bind its address
    └── FetchError                        an outbound HTTP request failed (itself: invalid URL, not retryable)
        ├── FetchTimeout                  no complete answer within the deadline (retryable)
        ├── FetchConnectionError          connect/reset/truncated body (retryable)
        ├── FetchHTTPError(status)        the server answered with a non-2xx status
        └── FetchTooLarge                 the body exceeded the caller's size cap (not retryable)
"""

from __future__ import annotations

from wubloader.errors import WubloaderError


class RuntimeConfigError(WubloaderError, ValueError):
    """A configuration value is invalid; the message names the value and what was expected."""


class BadTimestamp(WubloaderError, ValueError):
    """A timestamp string could not be parsed; `value` keeps the offending input."""

    def __init__(self, message: str, value: str) -> None:
        super().__init__(message)
        self.value = value


class ListenError(WubloaderError):
    """A server could not bind (address in use, permission denied, bad path)."""


class FetchError(WubloaderError):
    """An outbound HTTP request failed.

    `url` is the request URL without query string or credentials, so the error can be logged
    without leaking tokens. `retryable` says whether trying again later may succeed.
    """

    retryable: bool = True

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class FetchTimeout(FetchError):
    """The request (connect, headers or body) did not complete within its deadline."""


class FetchConnectionError(FetchError):
    """The connection failed: refused, reset, DNS failure, TLS failure or a truncated body."""


class FetchHTTPError(FetchError):
    """The server answered with a non-2xx status; 5xx, 408, 425 and 429 are retryable."""

    def __init__(self, message: str, url: str, status: int) -> None:
        super().__init__(message, url)
        self.status = status
        self.retryable = status >= 500 or status in (408, 425, 429)


class FetchTooLarge(FetchError):
    """The response body exceeded the caller's `max_bytes`; retrying will not help."""

    retryable = False
