"""The outcome of a backfill pass: its record, its metrics and its log line."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.backfiller import metrics

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from wubloader.backfiller.plan import FetchJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PassResult:
    """The outcome of one pass. `complete` means nothing that should have been copied is missing."""

    copied: int
    bytes: int
    tombstones: int
    missing: int
    deferred_recent: int
    hash_mismatches: int
    listing_errors: int
    local_errors: int
    hours_diffed: int
    hours_unchanged: int
    failed_peers: tuple[str, ...]
    stopped: bool
    seconds: float

    @property
    def complete(self) -> bool:
        return self.missing == 0 and self.listing_errors == 0 and self.local_errors == 0 and not self.stopped


def record_pass(result: PassResult, missing: Sequence[FetchJob], peers: Iterable[str]) -> None:
    """Per-pass metrics (backlog and last success per peer) and one log line."""
    backlog = Counter(peer for job in missing for peer in job.peers)
    wall = time.time()
    for peer in peers:
        metrics.BACKLOG.labels(peer).set(backlog.get(peer, 0))
        if peer not in result.failed_peers:
            metrics.LAST_SUCCESS.labels(peer).set(wall)
    metrics.MISSING.set(result.missing)
    metrics.PASSES.labels("complete" if result.complete else "incomplete").inc()
    metrics.PASS_DURATION.observe(result.seconds)
    level = logging.INFO if result.copied or result.tombstones or not result.complete else logging.DEBUG
    logger.log(
        level,
        "backfill pass: %d segments (%.1f MB) and %d tombstones copied, %d missing, %d too recent, "
        "%d hash mismatches, %d listing errors, %d local errors%s in %.2f s",
        result.copied,
        result.bytes / 1e6,
        result.tombstones,
        result.missing,
        result.deferred_recent,
        result.hash_mismatches,
        result.listing_errors,
        result.local_errors,
        " (stopped)" if result.stopped else "",
        result.seconds,
    )
