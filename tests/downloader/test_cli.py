"""`wubloader downloader` as a real subprocess: identical names across nodes, SIGKILL + restart, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.downloader.support import (
    EncoderProcess,
    assert_archived_exactly,
    source_truth,
    stored_segments,
    temp_files,
    wait_for,
)
from tests.harness.live_source import Faults, LiveSource
from tests.harness.processes import free_port, start_component

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]


def start_downloader(components, tmp_path, base, url, *extra):
    port = free_port()
    component = start_component(
        ["downloader", "chan", "--source", url, "--base-dir", str(base), "--metrics-port", str(port),
         "--poll-interval", "0.5", *extra],
        tmp_path / "logs",
        port=port,
    )  # fmt: skip
    components.append(component)
    return component


def good_starts(base):
    return {s.start for s in stored_segments(base) if s.type.value in ("full", "suspect")}


def test_two_downloaders_produce_identical_names(tmp_path, components):
    encoder_dir = tmp_path / "encoder"
    with (
        LiveSource(encoder_dir, window=10) as source,
        EncoderProcess(encoder_dir, segment_seconds=1) as encoder,
    ):
        first = start_downloader(components, tmp_path, tmp_path / "a", source.media_url)
        second = start_downloader(components, tmp_path, tmp_path / "b", source.master_url)
        # A few segments archived by both, however slowly a loaded machine encodes (not a fixed sleep).
        wait_for(lambda: min(len(good_starts(tmp_path / "a")), len(good_starts(tmp_path / "b"))) >= 5, 120,
                 "both downloaders archiving")  # fmt: skip
        encoder.stop()
        truth = source_truth(encoder_dir)
        starts = {s.start for s in truth}
        wait_for(lambda: starts <= good_starts(tmp_path / "a") and starts <= good_starts(tmp_path / "b"), 30)
        metrics = urllib.request.urlopen(first.url + "/metrics", timeout=5).read().decode()
        assert first.stop(signal.SIGTERM) == 0
        assert second.stop(signal.SIGTERM) == 0
    assert 'wubloader_downloader_segments_total{channel="chan",quality="source",type="full"}' in metrics
    assert assert_archived_exactly(tmp_path / "a", truth) == {"full": len(truth)}
    assert assert_archived_exactly(tmp_path / "b", truth) == {"full": len(truth)}
    names_a = sorted(s.path.split("/")[-1] for s in stored_segments(tmp_path / "a"))
    names_b = sorted(s.path.split("/")[-1] for s in stored_segments(tmp_path / "b"))
    assert names_a == names_b


def test_sigkill_mid_download_then_restart(tmp_path, components):
    encoder_dir = tmp_path / "encoder"
    base = tmp_path / "store"
    # Every segment body stalls halfway, so a temp file is being written when the kill lands.
    stalling = Faults(seed=1, stall=1.0, stall_seconds=(3.0, 3.0), on_playlists=False)
    with LiveSource(encoder_dir, window=30, faults=stalling) as source:
        with EncoderProcess(encoder_dir, segment_seconds=1) as encoder:
            downloader = start_downloader(components, tmp_path, base, source.media_url)
            # Start-up under CPU load can take far longer than 20 s (once seen): only a hang should fail.
            wait_for(lambda: temp_files(base), 120, "a segment write in progress")
            assert downloader.stop(signal.SIGKILL) == -signal.SIGKILL
            assert temp_files(base), "the kill should have left a temp file behind"
            source.faults = Faults()
            restarted = start_downloader(components, tmp_path, base, source.media_url)
            wait_for(lambda: not temp_files(base), 120, "start-up to remove the leftover temp file")
            archived = len(good_starts(base))
            wait_for(
                lambda: len(good_starts(base)) >= archived + 3, 120, "the restarted downloader archiving"
            )
            encoder.stop()
            truth = source_truth(encoder_dir)
            wait_for(lambda: {s.start for s in truth} <= good_starts(base), 30, "the archive to catch up")
            assert restarted.stop(signal.SIGTERM) == 0
    counts = assert_archived_exactly(base, truth)
    assert counts == {"full": len(truth)}
    assert "removed 1 stale temp files" in restarted.log() or "stale temp" in restarted.log()


@pytest.mark.parametrize("args", [["chan", "--source", "ftp://x/y"], [".chan", "--source", "twitch"]])
def test_bad_configuration_exits_2(tmp_path, args):
    result = subprocess.run(
        [sys.executable, "-m", "wubloader", "downloader", *args, "--base-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert "configuration error" in result.stderr or "ERROR" in result.stderr
