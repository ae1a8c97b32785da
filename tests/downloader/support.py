"""Helpers for downloader tests: a live encoder as a plain subprocess, and exact archive comparisons."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tests.harness.live_source import source_segments
from tests.harness.processes import generous
from wubloader.media.live_encoder import LiveEncoder
from wubloader.media.process import die_with_parent
from wubloader.runtime.timeparse import parse as parse_timestamp
from wubloader.store import SegmentType, format_duration, hash_bytes
from wubloader.store.naming import parse_segment_path


@dataclass(frozen=True)
class SourceSegment:
    name: str
    start: object
    duration_text: str
    hash: str


class EncoderProcess:
    """A LiveEncoder's ffmpeg run as a subprocess (for synchronous tests); `stop()` ends it with ENDLIST."""

    def __init__(self, directory: Path, **kwargs) -> None:
        self.encoder = LiveEncoder(directory, window=0, delete_segments=False, **kwargs)
        directory.mkdir(parents=True, exist_ok=True)
        # An interrupted test run (Ctrl-C, a killed CI job) must not leave the encoder writing forever.
        self.process = subprocess.Popen(
            [*die_with_parent(os.getpid()), *self.encoder.arguments()],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(b"q")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> EncoderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def encoded(directory: Path) -> int:
    """Segments an encoder has listed so far: on a loaded machine it falls behind real time."""
    playlist = directory / "index.m3u8"
    return len(source_segments(playlist.read_text())) if playlist.exists() else 0


def source_truth(directory: Path, playlist_text: str | None = None) -> list[SourceSegment]:
    """Every segment an encoder produced, with the name fields a downloader must give it."""
    text = playlist_text if playlist_text is not None else (directory / "index.m3u8").read_text()
    result = []
    for name, pdt, duration in source_segments(text):
        data = (directory / name).read_bytes()
        result.append(
            SourceSegment(
                name=name,
                start=parse_timestamp(pdt),
                duration_text=format_duration(duration),
                hash=hash_bytes(data),
            )
        )
    return result


def stored_segments(base: Path, channel: str = "chan", quality: str = "source") -> list:
    """Every segment file in the store (any type), parsed, sorted by start."""
    root = base / channel / quality
    result = []
    if not root.exists():
        return result
    for hour in sorted(os.listdir(root)):
        for name in os.listdir(root / hour):
            result.append(parse_segment_path(root / hour / name))
    return sorted(result, key=lambda s: (s.start, s.type))


def temp_files(base: Path) -> list[str]:
    return [str(p) for p in base.rglob("*-temp-*")]


def assert_archived_exactly(base: Path, truth: list[SourceSegment], **where) -> dict[str, int]:
    """Each source segment is stored exactly once as full (or suspect), with the source's exact bytes.

    Returns counts by type. Partials (failed attempts) may sit beside the good copy.
    """
    stored = stored_segments(base, **where)
    good = [s for s in stored if s.type in (SegmentType.FULL, SegmentType.SUSPECT)]
    by_start = {}
    for seg in good:
        assert seg.start not in by_start, (
            f"two good copies of {seg.start}: {seg.path}, {by_start[seg.start].path}"
        )
        by_start[seg.start] = seg
    for src in truth:
        seg = by_start.get(src.start)
        assert seg is not None, f"source segment {src.name} ({src.start}) missing from the store"
        assert seg.duration == timedelta(seconds=float(src.duration_text))
        assert seg.path.split("/")[-1].split("-")[1] == src.duration_text
        assert seg.hash == src.hash, f"{src.name} stored with different bytes"
        assert hash_bytes(Path(seg.path).read_bytes()) == src.hash
    assert set(by_start) == {src.start for src in truth}, "store has segments the source never produced"
    assert not temp_files(base)
    counts: dict[str, int] = {}
    for seg in stored:
        counts[seg.type.value] = counts.get(seg.type.value, 0) + 1
    return counts


def wait_for(predicate, timeout: float, message: str = "condition", interval: float = 0.2) -> None:
    timeout = generous(timeout)  # bounds a hang only: start-up and ffmpeg crawl under CPU load
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
