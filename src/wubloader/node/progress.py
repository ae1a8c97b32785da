"""Periodic one-line progress reports for people watching a node: segments archived, stream delay, backlog."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from prometheus_client import REGISTRY

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """Totals read back from this process's metrics."""

    archived: float
    newest_age: float | None
    backfilled: float
    backlog: float | None


def _total(name: str) -> float:
    total = 0.0
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == name:
                total += sample.value
    return total


def _first(name: str) -> float | None:
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            if sample.name == name:
                return float(sample.value)
    return None


def read_progress() -> Progress:
    return Progress(
        archived=_total("wubloader_downloader_segments_total"),
        newest_age=_first("wubloader_downloader_newest_segment_age_seconds"),
        backfilled=_total("wubloader_backfill_segments_total"),
        backlog=_first("wubloader_backfill_missing_segments"),
    )


def describe(progress: Progress, downloading: bool, backfilling: bool) -> str:
    parts = []
    if downloading:
        age = "no segment yet" if progress.newest_age is None else f"newest {progress.newest_age:.1f} s old"
        parts.append(f"archiving: {progress.archived:.0f} segments ({age})")
    if backfilling:
        backlog = "" if progress.backlog is None else f", {progress.backlog:.0f} missing"
        parts.append(f"backfill: {progress.backfilled:.0f} segments copied{backlog}")
    return "; ".join(parts) or "serving the store"


async def report_progress(interval: float, downloading: bool, backfilling: bool, stop: asyncio.Event) -> None:
    """Log progress every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            async with asyncio.timeout(interval):
                await stop.wait()
        except TimeoutError:
            logger.info("%s", describe(read_progress(), downloading, backfilling))
