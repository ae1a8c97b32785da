"""The suite runs in a random order whose seed is printed and replays that order (docs/testing.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = "tests/store/test_naming.py"  # many quick tests: two orders almost never coincide


def collect(*args: str) -> tuple[list[str], str]:
    """Collect SAMPLE under -q in a fresh pytest; returns the test ids in run order, and the output."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", *args, SAMPLE],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line], result.stdout


def test_the_seed_is_printed_first_even_under_quiet():
    _, output = collect("-p", "randomly", "--randomly-seed=4242")
    assert output.splitlines()[0] == "random order: reproduce with -p randomly --randomly-seed=4242"


def test_a_seed_replays_its_order_and_another_seed_shuffles():
    first, _ = collect("-p", "randomly", "--randomly-seed=1")
    again, _ = collect("-p", "randomly", "--randomly-seed=1")
    other, _ = collect("-p", "randomly", "--randomly-seed=2")
    in_file_order, output = collect("-p", "no:randomly")
    assert len(first) > 50 and first == again
    assert other != first and sorted(other) == sorted(first)
    assert in_file_order != first and sorted(in_file_order) == sorted(first)
    assert "random order" not in output  # no seed to print when the plugin is off
