"""The shared outbound HTTP client: session defaults and the one place aiohttp errors become FetchErrors."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from wubloader import __version__
from wubloader.runtime.errors import (
    FetchConnectionError,
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    FetchTooLarge,
)
from wubloader.runtime.metrics import HTTP_CLIENT_DURATION, HTTP_CLIENT_REQUESTS

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Iterator, Mapping

    from aiohttp.abc import AbstractResolver

DEFAULT_USER_AGENT = f"wubloader/{__version__}"
DEFAULT_CHUNK_SIZE = 64 * 1024


def create_session(
    *,
    limit: int = 100,
    limit_per_host: int = 8,
    user_agent: str = DEFAULT_USER_AGENT,
    headers: Mapping[str, str] | None = None,
    resolver: AbstractResolver | None = None,
) -> aiohttp.ClientSession:
    """Create a ClientSession with wubloader's defaults; call inside a running loop, close it when done.

    At most `limit_per_host` connections per peer (so one slow node cannot take every connection),
    no proxy settings from the environment, no automatic raise on error statuses (fetch_bytes and
    iter_body check statuses), and no session-wide timeout: each call passes its own. aiohttp
    already sets TCP_NODELAY on its connections. `resolver` replaces aiohttp's (which resolves names
    in the loop's default thread pool), e.g. a `workers.PoolResolver` on the component's own pool.
    """
    connector = aiohttp.TCPConnector(
        limit=limit, limit_per_host=limit_per_host, ttl_dns_cache=60, resolver=resolver
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent, **(headers or {})},
        trust_env=False,
        raise_for_status=False,
        timeout=aiohttp.ClientTimeout(total=None),
    )


def redact_url(url: str | URL) -> str:
    """The URL without query, fragment or credentials, safe to log (twitch URLs carry tokens in the query)."""
    try:
        parsed = URL(url)
        return str(parsed.with_user(None).with_query(None).with_fragment(None))
    except (TypeError, ValueError):
        return str(url).split("?", 1)[0].split("#", 1)[0][:200]


def describe_error(exc: BaseException) -> str:
    """A short cause that never includes the URL (aiohttp messages can contain its query string)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__} [{exc.strerror}]"
    return type(exc).__name__


@contextlib.contextmanager
def fetch_errors(shown_url: str) -> Iterator[None]:
    """Convert aiohttp, socket and timeout errors raised in the block into FetchError subclasses.

    `shown_url` is the redacted URL used in messages. FetchErrors pass through unchanged;
    CancelledError is never touched.
    """
    try:
        yield
    except TimeoutError as exc:  # before OSError: TimeoutError is one; aiohttp's timeouts derive from it
        raise FetchTimeout(f"timed out fetching {shown_url}", shown_url) from exc
    except aiohttp.ClientResponseError as exc:
        raise FetchHTTPError(f"HTTP {exc.status} from {shown_url}", shown_url, exc.status) from exc
    except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
        error = FetchError(f"cannot fetch {shown_url}: not a valid http(s) URL", shown_url)
        error.retryable = False
        raise error from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise FetchConnectionError(f"cannot fetch {shown_url}: {describe_error(exc)}", shown_url) from exc


def _check_status(response: aiohttp.ClientResponse, shown_url: str) -> None:
    if not 200 <= response.status < 300:
        raise FetchHTTPError(f"HTTP {response.status} from {shown_url}", shown_url, response.status)


class RecordedRequest:
    """Records one request in the client metrics when the block ends, labelled by how it ended."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = time.perf_counter()

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            outcome = "ok"
        elif isinstance(exc, FetchHTTPError):
            outcome = f"http_{exc.status // 100}xx"
        elif isinstance(exc, FetchTimeout):
            outcome = "timeout"
        elif isinstance(exc, FetchError):
            outcome = "error"
        else:
            outcome = "abandoned"  # cancelled, or the consumer stopped reading a stream
        HTTP_CLIENT_REQUESTS.labels(self.name, outcome).inc()
        HTTP_CLIENT_DURATION.labels(self.name).observe(time.perf_counter() - self.started)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A whole body and the URL it finally came from (after redirects: relative URIs resolve here)."""

    body: bytes
    url: str


async def fetch_resource(
    session: aiohttp.ClientSession,
    url: str,
    *,
    # The deadline is a parameter, not the caller's asyncio.timeout(), so that expiry happens inside
    # fetch_errors() and surfaces as FetchTimeout rather than a bare TimeoutError.
    timeout: float,  # noqa: ASYNC109
    headers: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    name: str = "fetch",
) -> Fetched:
    """GET `url` and return the whole body of a 2xx answer with the final URL after redirects.

    `timeout` covers connecting, the answer and the whole body. `name` labels the client metrics
    (keep it from a small fixed set). Raises FetchHTTPError (non-2xx), FetchTimeout,
    FetchConnectionError, FetchTooLarge (body over `max_bytes`) or FetchError (invalid URL).
    """
    chunks: list[bytes] = []
    size = 0
    final: list[str] = []
    body = iter_body(session, url, timeout=timeout, headers=headers, name=name, on_url=final.append)
    async with contextlib.aclosing(body):
        async for chunk in body:
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                shown = redact_url(url)
                raise FetchTooLarge(f"body of {shown} is over {max_bytes} bytes", shown)
            chunks.append(chunk)
    return Fetched(body=b"".join(chunks), url=final[0] if final else url)


async def fetch_bytes(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 -- see fetch_resource
    headers: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    name: str = "fetch",
) -> bytes:
    """`fetch_resource` without the final URL: the whole body of a 2xx answer (same errors)."""
    fetched = await fetch_resource(
        session, url, timeout=timeout, headers=headers, max_bytes=max_bytes, name=name
    )
    return fetched.body


async def iter_body(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float | None,  # noqa: ASYNC109 -- see fetch_bytes
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    read_timeout: float | None = None,
    headers: Mapping[str, str] | None = None,
    name: str = "fetch",
    on_url: Callable[[str], None] | None = None,
) -> AsyncGenerator[bytes, None]:
    """GET `url` and yield the body of a 2xx answer in chunks of at most `chunk_size` bytes.

    The status is checked before the first chunk. `timeout` bounds the whole transfer (including
    time the consumer spends between chunks; None = the caller bounds it); `read_timeout`, if
    given, bounds each wait for data.
    Close the generator (`contextlib.aclosing`) when stopping early, so the connection is released.
    `on_url`, if given, is called with the final URL (after redirects) once the status is checked.
    Raises the same errors as fetch_bytes, possibly after some chunks were yielded.
    """
    shown = redact_url(url)
    client_timeout = aiohttp.ClientTimeout(total=timeout, sock_read=read_timeout)
    with RecordedRequest(name):
        async with contextlib.AsyncExitStack() as stack:
            with fetch_errors(shown):
                response = await stack.enter_async_context(
                    session.get(url, timeout=client_timeout, headers=headers)
                )
            _check_status(response, shown)
            if on_url is not None:
                on_url(str(response.url))
            # One conversion block for the whole body rather than a context manager per chunk:
            # only GeneratorExit (aclose) can arrive at the `yield`, and it passes through.
            with fetch_errors(shown):
                while True:
                    chunk = await response.content.read(chunk_size)
                    if not chunk:
                        return
                    yield chunk
