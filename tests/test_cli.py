"""The `wubloader` command: subcommands dispatch, unbuilt ones say so and exit 2, env vars feed flags."""

import subprocess
import sys


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "wubloader", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_help_lists_every_subcommand():
    result = run("--help")
    assert result.returncode == 0
    for name in (
        "node",
        "downloader",
        "restreamer",
        "backfiller",
        "cutter",
        "thrimshim",
        "coverage",
        "tombstone",
        "db",
    ):
        assert name in result.stdout


def test_unbuilt_subcommand_says_so_and_exits_2(monkeypatch, capsys):
    from wubloader import cli

    monkeypatch.setitem(cli.COMMANDS, "future", ("wubloader.future_component.app", "not written yet"))
    monkeypatch.setattr(cli, "catch_stop_signals", lambda: None)  # keep pytest's own SIGINT handling
    assert cli.main(["future"]) == 2
    assert "not built yet" in capsys.readouterr().err


def test_unknown_subcommand_is_a_usage_error():
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_missing_subcommand_is_a_usage_error():
    result = run()
    assert result.returncode == 2
