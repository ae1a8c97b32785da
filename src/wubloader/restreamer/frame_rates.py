"""Frame rates of stored segments, probed once per segment file, for the master playlist's FRAME-RATE."""

from __future__ import annotations

import logging
from collections import OrderedDict

from wubloader.media.errors import FfmpegTimeout, MediaError
from wubloader.media.probe import probe_segment

logger = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 1024
# A master playlist waits for this probe: a stuck ffprobe must not hold the player's start for long,
# but a busy machine can take seconds to start one (5 s was seen to run out at a load of 8 on 2 cores).
PROBE_TIME_LIMIT = 15.0


class FrameRateCache:
    """Frame rate (frames/s) per segment path; None where the file has no probeable video.

    Segment files never change under one name, so an entry never goes stale; the LRU bound keeps a
    long-running restreamer's memory flat. Failed probes are cached too, so junk is probed once; a
    probe that ran out of time is not (the file may be fine and the machine busy): the next master
    playlist asks again.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._rates: OrderedDict[str, float | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rates)

    async def frame_rate(self, path: str, *, time_limit: float = PROBE_TIME_LIMIT) -> float | None:
        """The segment's video frame rate, probing it on first use (errors are logged, not raised)."""
        if path in self._rates:
            self._rates.move_to_end(path)
            return self._rates[path]
        try:
            rate: float | None = float((await probe_segment(path, time_limit=time_limit)).frame_rate)
        except FfmpegTimeout as exc:
            logger.warning("no frame rate for %s this time: %s", path, exc)
            return None
        except MediaError as exc:
            logger.debug("no frame rate for %s: %s", path, exc)
            rate = None
        self._rates[path] = rate
        if len(self._rates) > self.max_entries:
            self._rates.popitem(last=False)
        return rate
