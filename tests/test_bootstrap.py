"""The README's main-job wrapper works: `bin/wubloader` bootstraps (non-test mode) and runs the CLI."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bin_wubloader_bootstraps_and_runs():
    result = subprocess.run(
        [str(ROOT / "bin" / "wubloader"), "--help"], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "node" in result.stdout and "restreamer" in result.stdout
    assert (ROOT / ".venv" / ".installed").read_text().strip()  # the stamp that skips reinstalls
