"""The local side of syncing one hour: skipping unreadable hours, creating tombstones within bounds."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from wubloader.backfiller import metrics

if TYPE_CHECKING:
    from wubloader.backfiller.local_store import LocalHour, LocalHours
    from wubloader.backfiller.peer_client import CachedListing
    from wubloader.backfiller.plan import HourKey, HourPlan
    from wubloader.backfiller.transfer import PassStats

logger = logging.getLogger(__name__)


def readable_hours(
    local: dict[HourKey, LocalHour | OSError], hours: LocalHours, stats: PassStats
) -> dict[HourKey, LocalHour]:
    """The hours that could be read; each unreadable one is logged, counted and skipped this pass."""
    readable: dict[HourKey, LocalHour] = {}
    for key, hour in local.items():
        if isinstance(hour, OSError):
            logger.error("cannot read %s (skipping it this pass): %s", hours.hour_dir(key), hour)
            metrics.UNREADABLE_HOURS.inc()
            stats.local_errors += 1
        else:
            readable[key] = hour
    return readable


def report_tombstone_limit(plan: HourPlan, entries: dict[str, CachedListing], limit: int) -> None:
    """Log and count (for every peer listing the hour) the tombstones the per-hour bound refused."""
    key = plan.key
    logger.warning(
        "%s/%s/%s: not creating %d more tombstones (at most %d per hour)",
        key.channel,
        key.quality,
        key.hour,
        plan.skipped.tombstone_limit,
        limit,
    )
    for peer in entries:
        metrics.SKIPPED.labels(peer, "tombstone_limit").inc(plan.skipped.tombstone_limit)


async def copy_tombstones(
    hours: LocalHours, plan: HourPlan, entries: dict[str, CachedListing], stats: PassStats
) -> None:
    """Create the plan's tombstones (before any fetch), crediting each to a peer that had it.

    On a local error (disk full, permissions) the pass is incomplete; the segments those
    tombstones hide are still not fetched (the plan already left them out).
    """
    try:
        await hours.create_tombstones(plan.key, plan.tombstones)
    except OSError as exc:
        logger.error("cannot create tombstones in %s: %s", hours.hour_dir(plan.key), exc)
        stats.local_errors += 1
        for holder in entries:
            metrics.ERRORS.labels(holder, "local_io").inc()
        return
    stats.tombstones += len(plan.tombstones)
    for name in plan.tombstones:
        source = next((p for p in sorted(entries) if name in entries[p].listing.tombstones), None)
        if source is not None:
            metrics.TOMBSTONES.labels(source).inc()
