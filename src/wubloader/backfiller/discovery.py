"""Finding what each peer holds: its channels, qualities and hours (within the `--start` bound)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from wubloader.backfiller import metrics
from wubloader.backfiller.errors import BadPeerListing
from wubloader.backfiller.plan import HourKey, hour_in_range, safe_name
from wubloader.backfiller.transfer import error_kind
from wubloader.runtime.errors import FetchError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from wubloader.backfiller.peer_client import PeerClient

logger = logging.getLogger(__name__)


async def peer_hours(
    client: PeerClient,
    semaphore: asyncio.Semaphore,
    *,
    channels: Sequence[str],
    qualities: Sequence[str],
    not_before: datetime | None,
) -> list[HourKey]:
    """Every hour the peer lists for the wanted channels x qualities. Raises FetchError/BadPeerListing.

    Empty `channels`/`qualities` mean whatever the peer lists.
    """
    async with semaphore:
        peer_channels = list(channels) or [c for c in await client.list_names() if safe_name(c)]
    keys: list[HourKey] = []
    for channel in peer_channels:
        async with semaphore:
            peer_qualities = list(qualities) or [q for q in await client.list_names(channel) if safe_name(q)]
        for quality in peer_qualities:
            async with semaphore:
                hours = await client.list_names(channel, quality)
            keys.extend(
                HourKey(channel=channel, quality=quality, hour=h)
                for h in hours
                if hour_in_range(h, not_before)
            )
    return keys


async def discover(
    clients: Mapping[str, PeerClient],
    semaphores: Mapping[str, asyncio.Semaphore],
    *,
    channels: Sequence[str],
    qualities: Sequence[str],
    not_before: datetime | None,
) -> tuple[dict[HourKey, list[str]], set[str]]:
    """Ask every peer at once; returns (hour key → peers that have it, peers that failed).

    A failing peer is logged and counted, and left out of this pass; the others are unaffected.
    """
    results: dict[str, list[HourKey] | None] = {}

    async def one(peer: str) -> None:
        try:
            results[peer] = await peer_hours(
                clients[peer], semaphores[peer], channels=channels, qualities=qualities, not_before=not_before
            )
        except FetchError as exc:
            logger.warning("cannot list %s: %s", peer, exc)
            metrics.ERRORS.labels(peer, error_kind(exc)).inc()
            results[peer] = None
        except BadPeerListing as exc:
            logger.warning("bad listing from %s: %s", peer, exc)
            metrics.ERRORS.labels(peer, "bad_listing").inc()
            results[peer] = None

    async with asyncio.TaskGroup() as group:
        for peer in clients:
            group.create_task(one(peer))
    holders: dict[HourKey, list[str]] = {}
    failed = set()
    for peer in sorted(results):
        keys = results[peer]
        if keys is None:
            failed.add(peer)
            continue
        for key in keys:
            holders.setdefault(key, []).append(peer)
    return holders, failed
