"""Which peers to backfill from: the Peer record, pluggable node sources (static, file) and self-exclusion.

`DatabaseNodeSource` reads the `nodes` table (rows with `backfill_from`) on every refresh.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from yarl import URL

from wubloader.backfiller.errors import NodeListError
from wubloader.db import nodes as db_nodes
from wubloader.db.errors import DatabaseError
from wubloader.runtime.errors import RuntimeConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from wubloader.db.database import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Peer:
    """A node to copy from. `url` is normalised (no trailing slash); `name` labels logs and metrics."""

    name: str
    url: str


class NodeSource(Protocol):
    """Anything that can say, now, which nodes exist (including possibly this one)."""

    async def nodes(self) -> list[Peer]:
        """The current node list. Raises NodeListError if it cannot be read right now."""
        ...


def normalize_url(text: str) -> str:
    """`HTTP://Host:8000/` → `http://host:8000`; raises RuntimeConfigError for anything but http(s) URLs."""
    try:
        url = URL(text.strip())
    except (TypeError, ValueError) as exc:
        raise RuntimeConfigError(f"bad node URL {text[:64]!r}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise RuntimeConfigError(f"node URL must be http(s)://HOST[:PORT][/PATH], got {text[:64]!r}")
    return str(url.with_query(None).with_fragment(None)).rstrip("/")


def peer_from_url(text: str, name: str | None = None) -> Peer:
    """A Peer for `text`; without a name, `host:port` (unique even for several nodes on one host)."""
    url = normalize_url(text)
    parsed = URL(url)
    return Peer(name=name or f"{parsed.host}:{parsed.port}", url=url)


def parse_node_lines(lines: Iterable[str]) -> list[Peer]:
    """Parse a node file: `NAME URL` or bare `URL` per line; blank, whitespace-only and `#` lines skipped.

    Raises RuntimeConfigError naming the first bad line.
    """
    peers = []
    for number, line in enumerate(lines, 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) > 2:
            raise RuntimeConfigError(f"node file line {number}: expected 'NAME URL' or 'URL'")
        try:
            peers.append(peer_from_url(words[-1], words[0] if len(words) == 2 else None))
        except RuntimeConfigError as exc:
            raise RuntimeConfigError(f"node file line {number}: {exc}") from None
    return peers


@dataclass(frozen=True, slots=True, kw_only=True)
class StaticNodeSource:
    """The `--nodes` list, fixed for the process lifetime."""

    peers: tuple[Peer, ...]

    async def nodes(self) -> list[Peer]:
        return list(self.peers)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileNodeSource:
    """`--node-file`, re-read on every refresh so operators can edit it live."""

    path: Path

    async def nodes(self) -> list[Peer]:
        try:
            text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
            return parse_node_lines(text.splitlines())
        except (OSError, UnicodeDecodeError, RuntimeConfigError) as exc:
            raise NodeListError(f"cannot read node file {self.path}: {exc}") from exc


class DatabaseNodeSource:
    """`--db`: the cluster's `nodes` table, re-read on every refresh; a row with a bad URL is skipped
    with a warning (one bad row must not hide the other peers)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def nodes(self) -> list[Peer]:
        try:
            rows = await self.database.run(db_nodes.list_nodes, backfill_only=True)
        except DatabaseError as exc:
            raise NodeListError(f"cannot read the nodes table: {exc}") from exc
        peers = []
        for row in rows:
            try:
                peers.append(peer_from_url(row.url, row.name))
            except RuntimeConfigError as exc:
                logger.warning("skipping node %r from the nodes table: %s", row.name, exc)
        return peers


@dataclass(frozen=True, slots=True, kw_only=True)
class CombinedNodeSource:
    """Merges several sources by name, later ones overriding earlier ones (static < file < db)."""

    sources: tuple[NodeSource, ...]

    async def nodes(self) -> list[Peer]:
        merged: dict[str, Peer] = {}
        for source in self.sources:
            for peer in await source.nodes():
                merged[peer.name] = peer
        return list(merged.values())


def select_peers(peers: Sequence[Peer], *, self_name: str | None, self_url: str | None) -> list[Peer]:
    """Drop this node (by name or by URL) and duplicate URLs; keep the order otherwise."""
    own_url = normalize_url(self_url) if self_url else None
    seen: set[str] = set()
    result = []
    for peer in peers:
        if peer.name == self_name or peer.url == own_url or peer.url in seen:
            continue
        seen.add(peer.url)
        result.append(peer)
    return result
