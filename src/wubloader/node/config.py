"""The all-in-one node's configuration: which components run, built from the components' own configs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from wubloader.runtime.errors import RuntimeConfigError

if TYPE_CHECKING:
    from wubloader.backfiller.config import BackfillerConfig
    from wubloader.backfiller.nodes import NodeSource
    from wubloader.downloader.config import DownloaderConfig
    from wubloader.node.editing_config import EditingConfig
    from wubloader.restreamer.config import RestreamerConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """A node always serves its store; it downloads when given a source (or `demo`) and backfills
    when it has peers (`nodes`, from which `self_url` is excluded). `scrub_rate` (bytes/s) re-hashes the
    store continuously; `keep_hours` deletes hours older than that; `coverage_interval` (s) redraws the
    coverage maps of every channel. `/metrics` is always on the restreamer's port; `metrics_port`
    serves it on a port of its own too (on `metrics_host`, else the restreamer's host). `editing`
    runs thrimshim, the editor and a cutter."""

    restreamer: RestreamerConfig
    downloader: DownloaderConfig | None = None
    backfiller: BackfillerConfig | None = None
    nodes: NodeSource | None = None
    demo: bool = False
    progress_interval: float = 10.0
    self_url: str | None = None
    scrub_rate: float | None = None
    keep_hours: float | None = None
    coverage_interval: float | None = None
    metrics_port: int | None = None
    metrics_host: str | None = None
    editing: EditingConfig | None = None

    def __post_init__(self) -> None:
        if self.demo and self.downloader is None:
            raise RuntimeConfigError("--demo needs the downloader")
        if self.progress_interval <= 0:
            raise RuntimeConfigError("progress_interval must be positive")
        if self.scrub_rate is not None and not self.scrub_rate > 0:
            raise RuntimeConfigError("--scrub-rate must be a positive number of MB/s")
        if self.keep_hours is not None and not self.keep_hours >= 1:
            raise RuntimeConfigError("--keep must be at least 1 hour")
        if self.coverage_interval is not None and not self.coverage_interval > 0:
            raise RuntimeConfigError("--coverage-interval must be positive (or 0 for off)")
