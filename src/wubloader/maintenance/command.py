"""What every operator command shares: exit codes, one-line errors, `--nodes` and a peer session."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, TypeVar

from wubloader.errors import WubloaderError
from wubloader.maintenance.errors import PeerError, UsageError
from wubloader.maintenance.peers import PeerListings, normalize_peer
from wubloader.runtime.errors import BadTimestamp, RuntimeConfigError
from wubloader.runtime.http_client import create_session
from wubloader.store.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2

T = TypeVar("T")


def run_command(name: str, body: Callable[[], int]) -> int:
    """Run `body`; bad input becomes one line on stderr and exit 2, an unreachable peer exit 1."""
    try:
        return body()
    except (UsageError, StoreError, BadTimestamp, RuntimeConfigError) as exc:
        print(f"wubloader {name}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (PeerError, WubloaderError) as exc:
        print(f"wubloader {name}: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE


def parse_nodes(text: str | None, *, required: bool = True) -> list[str]:
    """`--nodes URL,…` → normalized base URLs; UsageError if required and empty or one is not a URL."""
    urls = [normalize_peer(u) for u in (text or "").split(",") if u.strip()]
    if required and not urls:
        raise UsageError("--nodes needs at least one node URL")
    return list(dict.fromkeys(urls))


def with_listings(work: Callable[[PeerListings], Awaitable[T]], timeout: float = 15.0) -> T:
    """Run `work(listings)` on a fresh event loop with one HTTP session for all peers."""

    async def main() -> T:
        async with create_session() as session:
            return await work(PeerListings(session, timeout=timeout))

    return asyncio.run(main())
