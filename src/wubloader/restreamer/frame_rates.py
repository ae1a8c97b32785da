"""Frame rates of stored segments, probed once per segment file, for the master playlist's FRAME-RATE."""

from __future__ import annotations

import logging
from collections import OrderedDict

from wubloader.media.errors import MediaError
from wubloader.media.probe import probe_segment

logger = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 1024
# A master playlist waits for this probe: a stuck ffprobe must not hold the player's start.
PROBE_TIME_LIMIT = 5.0


class FrameRateCache:
    """Frame rate (frames/s) per segment path; None where the file has no probeable video.

    Segment files never change under one name, so an entry never goes stale; the LRU bound keeps a
    long-running restreamer's memory flat. Failed probes are cached too, so junk is probed once.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._rates: OrderedDict[str, float | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rates)

    async def frame_rate(self, path: str) -> float | None:
        """The segment's video frame rate, probing it on first use (errors are logged, not raised)."""
        if path in self._rates:
            self._rates.move_to_end(path)
            return self._rates[path]
        try:
            rate: float | None = float((await probe_segment(path, time_limit=PROBE_TIME_LIMIT)).frame_rate)
        except MediaError as exc:
            logger.debug("no frame rate for %s: %s", path, exc)
            rate = None
        self._rates[path] = rate
        if len(self._rates) > self.max_entries:
            self._rates.popitem(last=False)
        return rate
