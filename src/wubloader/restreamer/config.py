"""The restreamer's configuration record and its validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.hls.playlist import ENTRY_CACHE_BYTES
from wubloader.restreamer.segment_file import PATH_CACHE_BYTES
from wubloader.runtime.config import check_base_dir
from wubloader.runtime.connections import ConnectionLimits
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.store.selection import INDEX_CACHE_BYTES

MEBIBYTE = 1024 * 1024
FILES_CACHE_BYTES = 64 * MEBIBYTE
PEAKS_CACHE_BYTES = 64 * MEBIBYTE

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class RestreamerConfig:
    """Where the store is, where to listen, and the limits requests are held to.

    `max_range`: longest explicit playlist range; `max_cut_range`: longest cut (all its ranges
    together), `max_cut_ranges`: most ranges in one cut. Every range is checked before any work.
    `max_implicit_range`: a playlist whose start or end was not given may span at most this.
    `live_edge`: holes this close to the newest segment are trimmed from open-ended playlists, so
    a late segment filling them never rewrites lines a client already saw.
    `max_image_range`: longest waveform range; `max_image_side`: largest waveform side in pixels.
    `max_media_jobs`: media requests (cuts, waveforms, frames) running at once; up to
    `max_media_queue` more wait (at most `media_time_limit`) for a slot, and beyond that a request
    is refused at once with 503 + Retry-After. `max_playlist_jobs`: media playlists selected and
    rendered at once (others wait), so a crowd of players cannot monopolise the event loop.
    `max_media_rate`: bytes per second all cuts together may send (None: no cap).
    `idle_timeout`: a connection that has not sent a complete request head this long after it
    opened or after its last response is closed. `send_timeout`: a connection whose client takes
    none of an answer's bytes this long is aborted (0: never). `max_connections`: open connections at most
    (None: half the process's file descriptor limit); more are answered 503 and closed.
    `replication_threads`: threads of the pool that serves `/files` listings, apart from the
    thread pool every other request shares. `index_cache_bytes` / `files_cache_bytes`: memory for
    the segment index's cached hours and for cached `/files` hour listings (LRU, estimated bytes);
    `peaks_cache_bytes` for decoded waveform peaks (72 KB per hour of a quality);
    `playlist_cache_bytes` for rendered media playlist lines (~270 B a segment);
    `paths_cache_bytes` for the paths `/segments` requests were validated to;
    `warm_peaks_hours`: complete hours back from now whose peaks are decoded in the background.
    `fast_lane`: plain segment GETs are answered by the fast lane (see `segment_lane`) when served
    through `runtime.serve`; off, every request goes through aiohttp.
    `nodes`: peer URLs whose coverage maps the `/coverage` page shows beside this node's; `db_url`: a
    database whose `nodes` table (rows with `backfill_from`) adds more.
    """

    base_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    max_range: timedelta = timedelta(hours=24)
    max_cut_range: timedelta = timedelta(hours=24)
    max_cut_ranges: int = 100
    max_implicit_range: timedelta = timedelta(hours=12)
    live_edge: timedelta = timedelta(seconds=15)
    max_image_range: timedelta = timedelta(hours=6)
    max_image_side: int = 4096
    playlist_chunk_bytes: int = 100_000
    media_time_limit: float = 60.0
    max_media_jobs: int = 4
    max_media_queue: int = 8
    max_playlist_jobs: int = 4
    max_media_rate: float | None = 50e6
    drain_timeout: float = 20.0
    idle_timeout: float = 60.0
    send_timeout: float = 60.0
    max_connections: int | None = None
    replication_threads: int = 2
    index_cache_bytes: int = INDEX_CACHE_BYTES
    files_cache_bytes: int = FILES_CACHE_BYTES
    peaks_cache_bytes: int = PEAKS_CACHE_BYTES
    playlist_cache_bytes: int = ENTRY_CACHE_BYTES
    paths_cache_bytes: int = PATH_CACHE_BYTES
    warm_peaks_hours: int = 0
    fast_lane: bool = True
    nodes: tuple[str, ...] = ()
    db_url: str | None = None

    def __post_init__(self) -> None:
        check_base_dir(self.base_dir)
        if not 0 <= self.port <= 65535:
            raise RuntimeConfigError(f"port must be in 0..65535, got {self.port}")
        if self.max_image_side < 1 or self.playlist_chunk_bytes < 1024 or self.max_media_jobs < 1:
            raise RuntimeConfigError("max_image_side/max_media_jobs must be ≥ 1, playlist_chunk_bytes ≥ 1024")
        if self.media_time_limit <= 0 or self.drain_timeout < 0:
            raise RuntimeConfigError("media_time_limit must be > 0 and drain_timeout ≥ 0")
        zero = timedelta(0)
        if min(self.max_range, self.max_cut_range, self.max_implicit_range, self.max_image_range) <= zero:
            raise RuntimeConfigError("range limits must be longer than 0")
        if (
            min(self.max_cut_ranges, self.replication_threads, self.max_playlist_jobs) < 1
            or self.max_media_queue < 0
        ):
            raise RuntimeConfigError(
                "max_cut_ranges, replication_threads, max_playlist_jobs ≥ 1; max_media_queue ≥ 0"
            )
        budgets = (self.index_cache_bytes, self.files_cache_bytes, self.peaks_cache_bytes)
        if min(*budgets, self.playlist_cache_bytes, self.paths_cache_bytes) < 0:
            raise RuntimeConfigError("every cache budget (index, files, peaks, playlist, paths) must be ≥ 0")
        if self.warm_peaks_hours < 0:
            raise RuntimeConfigError(f"warm_peaks_hours must be ≥ 0, got {self.warm_peaks_hours}")
        if self.max_media_rate is not None and not self.max_media_rate > 0:
            raise RuntimeConfigError(f"max_media_rate must be > 0 bytes/s, got {self.max_media_rate}")
        self.connection_limits()  # validates max_connections and the timeouts

    def connection_limits(self) -> ConnectionLimits:
        """The server's connection cap and timeouts; a handler whose client left is cancelled."""
        return ConnectionLimits(
            max_connections=self.max_connections,
            idle_timeout=self.idle_timeout,
            send_timeout=self.send_timeout,
            cancel_abandoned=True,
        )
