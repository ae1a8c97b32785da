"""Proves runtime/config.py: env-backed argparse, config sections and CLI value parsers."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from wubloader.runtime.config import (
    BackdoorConfig,
    EnvArgumentParser,
    HostPort,
    HttpConfig,
    StoreConfig,
    add_common_arguments,
    backdoor_config,
    env_name,
    parse_backdoor_path,
    parse_backdoor_tcp,
    parse_bool,
    parse_csv,
    parse_duration_seconds,
    parse_host_port,
    parse_port,
)
from wubloader.runtime.errors import RuntimeConfigError


def make_parser() -> EnvArgumentParser:
    parser = EnvArgumentParser(prog="test")
    parser.add_argument("--base-dir", type=Path, required=True, help="store root")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--no-authentication", action="store_true")
    parser.add_argument("--keep", action="store_false", dest="cleanup")
    parser.add_argument("--color", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--cut-type", choices=["rough", "fast"], default="rough")
    parser.add_argument("--peers", nargs="*", default=[])
    parser.add_argument("-v", "--verbose", action="count", default=0)
    return parser


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("WUBLOADER_"):
            monkeypatch.delenv(name)


def test_env_name() -> None:
    assert env_name("--base-dir") == "WUBLOADER_BASE_DIR"
    assert env_name("--metrics-port") == "WUBLOADER_METRICS_PORT"


def test_defaults_without_env() -> None:
    args = make_parser().parse_args(["--base-dir", "/data"])
    assert args.base_dir == Path("/data")
    assert (args.port, args.once, args.cleanup, args.color, args.cut_type, args.verbose) == (
        8000,
        False,
        True,
        None,
        "rough",
        0,
    )


def test_env_supplies_defaults_and_satisfies_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WUBLOADER_BASE_DIR", "/from/env")
    monkeypatch.setenv("WUBLOADER_PORT", "9001")
    monkeypatch.setenv("WUBLOADER_CUT_TYPE", "fast")
    monkeypatch.setenv("WUBLOADER_PEERS", "http://a http://b")
    monkeypatch.setenv("WUBLOADER_VERBOSE", "2")
    args = make_parser().parse_args([])
    assert args.base_dir == Path("/from/env")
    assert args.port == 9001
    assert args.cut_type == "fast"
    assert args.peers == ["http://a", "http://b"]
    assert args.verbose == 2


def test_command_line_beats_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WUBLOADER_BASE_DIR", "/from/env")
    monkeypatch.setenv("WUBLOADER_PORT", "9001")
    args = make_parser().parse_args(["--base-dir", "/cli", "--port", "1234"])
    assert (args.base_dir, args.port) == (Path("/cli"), 1234)


def test_empty_env_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WUBLOADER_PORT", "")
    assert make_parser().parse_args(["--base-dir", "x"]).port == 8000


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("False", False), ("no", False)],
)
def test_store_true_from_env(monkeypatch: pytest.MonkeyPatch, text: str, expected: bool) -> None:
    monkeypatch.setenv("WUBLOADER_ONCE", text)
    monkeypatch.setenv("WUBLOADER_NO_AUTHENTICATION", text)
    monkeypatch.setenv("WUBLOADER_KEEP", text)
    monkeypatch.setenv("WUBLOADER_COLOR", text)
    args = make_parser().parse_args(["--base-dir", "x"])
    assert args.once is expected
    assert args.no_authentication is expected
    assert args.cleanup is (not expected)  # store_false: setting the flag clears `cleanup`
    assert args.color is expected


def test_flag_on_command_line_wins_over_false_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WUBLOADER_ONCE", "no")
    assert make_parser().parse_args(["--base-dir", "x", "--once"]).once is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WUBLOADER_PORT", "eighty"),
        ("WUBLOADER_ONCE", "maybe"),
        ("WUBLOADER_CUT_TYPE", "smart"),
        ("WUBLOADER_VERBOSE", "lots"),
    ],
)
def test_bad_env_value_is_a_usage_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as info:
        make_parser().parse_args(["--base-dir", "x"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert name in err
    assert repr(value) in err


def test_bad_env_value_is_moot_when_the_command_line_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WUBLOADER_PORT", "eighty")
    monkeypatch.setenv("WUBLOADER_BASE_DIR", "/env")
    assert make_parser().parse_args(["--port", "80"]).port == 80


def test_help_works_despite_a_bad_env_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WUBLOADER_PORT", "eighty")
    with pytest.raises(SystemExit) as info:
        make_parser().parse_args(["--help"])
    assert info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_required_is_restored_after_an_env_backed_parse(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = make_parser()
    monkeypatch.setenv("WUBLOADER_BASE_DIR", "/env")
    parser.parse_args([])
    monkeypatch.delenv("WUBLOADER_BASE_DIR")
    with pytest.raises(SystemExit):
        parser.parse_args([])
    assert "--base-dir" in capsys.readouterr().err


def test_subparsers_read_env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parser = EnvArgumentParser(prog="wubloader")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=EnvArgumentParser)
    restreamer = subparsers.add_parser("restreamer")
    restreamer.add_argument("--base-dir", type=Path, required=True)
    restreamer.add_argument("--port", type=int, default=8000)
    plain = subparsers.add_parser("plain")  # parser_class is inherited even without asking
    plain.add_argument("--once", action="store_true")
    monkeypatch.setenv("WUBLOADER_BASE_DIR", "/srv")
    monkeypatch.setenv("WUBLOADER_ONCE", "yes")
    args = parser.parse_args(["restreamer", "--port", "8080"])
    assert (args.command, args.base_dir, args.port) == ("restreamer", Path("/srv"), 8080)
    assert parser.parse_args(["plain"]).once is True
    monkeypatch.setenv("WUBLOADER_PORT", "x")
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["restreamer"])
    assert info.value.code == 2
    assert "WUBLOADER_PORT" in capsys.readouterr().err


def test_help_mentions_env_variables() -> None:
    text = make_parser().format_help()
    assert "[env WUBLOADER_BASE_DIR]" in text
    assert "store root [env WUBLOADER_BASE_DIR]" in text
    assert "WUBLOADER_HELP" not in text


def test_add_common_arguments(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    parser = EnvArgumentParser(prog="test")
    add_common_arguments(parser)
    args = parser.parse_args([])
    assert args.log_level is None
    assert backdoor_config(args) == BackdoorConfig()
    assert not backdoor_config(args).enabled
    assert args.metrics_port is None

    monkeypatch.setenv("WUBLOADER_METRICS_PORT", "8002")
    monkeypatch.setenv("WUBLOADER_LOG_LEVEL", "debug")
    args = parser.parse_args(["--backdoor", "/run/wubloader/bd.sock"])
    assert args.metrics_port == 8002
    assert args.log_level == "DEBUG"
    assert backdoor_config(args).unix_path == Path("/run/wubloader/bd.sock")

    secret = tmp_path / "secret"
    secret.write_text("  a-secret-of-enough-length\n")
    args = parser.parse_args(["--backdoor-tcp", "1234", "--backdoor-secret-file", str(secret)])
    config = backdoor_config(args)
    assert (config.tcp, config.secret) == (HostPort(host="127.0.0.1", port=1234), "a-secret-of-enough-length")
    assert "a-secret" not in repr(config)
    # TCP without a secret is a config error (exit 2 in components).
    with pytest.raises(RuntimeConfigError, match="--backdoor-secret-file"):
        backdoor_config(parser.parse_args(["--backdoor-tcp", "1234"]))

    for bad, message in [
        (["--backdoor", "1234"], "Unix socket path"),
        (["--backdoor-tcp", "0.0.0.0:1234"], "loopback"),
    ]:
        with pytest.raises(SystemExit) as info:
            parser.parse_args(bad)
        assert info.value.code == 2
        assert message in capsys.readouterr().err

    monkeypatch.setenv("WUBLOADER_BACKDOOR_TCP", "10.0.0.1:1")
    with pytest.raises(SystemExit):
        parser.parse_args([])
    err = capsys.readouterr().err
    assert "WUBLOADER_BACKDOOR_TCP" in err and "loopback" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:1234", HostPort(host="127.0.0.1", port=1234)),
        ("localhost:0", HostPort(host="localhost", port=0)),
        ("[::1]:80", HostPort(host="::1", port=80)),
        ("example.org:65535", HostPort(host="example.org", port=65535)),
    ],
)
def test_parse_host_port(text: str, expected: HostPort) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize("text", ["", "1234", ":80", "host:", "host:http", "host:65536", "::1:80", "a b:1"])
def test_parse_host_port_rejects(text: str) -> None:
    with pytest.raises(RuntimeConfigError):
        parse_host_port(text)


def test_host_port_url_host() -> None:
    assert HostPort(host="::1", port=1).url_host == "[::1]"
    assert HostPort(host="127.0.0.1", port=1).url_host == "127.0.0.1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("0", 0.0),
        ("500ms", 0.5),
        ("90s", 90.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        (" 3 m ", 180.0),
    ],
)
def test_parse_duration_seconds(text: str, expected: float) -> None:
    assert parse_duration_seconds(text) == expected


@pytest.mark.parametrize("text", ["", "-1", "abc", "1e3", "inf", "nan", "1x", "1h30m", "１２"])
def test_parse_duration_seconds_rejects(text: str) -> None:
    with pytest.raises(RuntimeConfigError):
        parse_duration_seconds(text)


def test_parse_csv() -> None:
    assert parse_csv("a,b") == ("a", "b")
    assert parse_csv(" source , 480p,,source, ") == ("source", "480p")
    assert parse_csv("") == ()


def test_parse_port_and_bool() -> None:
    assert parse_port("0") == 0
    assert parse_port("65535") == 65535
    for bad in ["", "-1", "65536", "8o", "²"]:
        with pytest.raises(RuntimeConfigError):
            parse_port(bad)
    assert parse_bool(" Yes ") is True
    with pytest.raises(RuntimeConfigError):
        parse_bool("2")


def test_store_config() -> None:
    assert StoreConfig(base_dir=Path("/data")).base_dir == Path("/data")
    with pytest.raises(RuntimeConfigError):
        StoreConfig(base_dir="/data")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        StoreConfig(Path("/data"))  # type: ignore[misc]  # keyword-only


def test_http_config() -> None:
    assert HttpConfig() == HttpConfig(host="127.0.0.1", port=8000)
    assert HttpConfig(port=0).port == 0
    for bad in [-1, 65536, True, "80"]:
        with pytest.raises(RuntimeConfigError):
            HttpConfig(port=bad)  # type: ignore[arg-type]
    with pytest.raises(RuntimeConfigError):
        HttpConfig(host="")


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("", None),
        ("0", None),
        ("/run/wubloader/backdoor.sock", Path("/run/wubloader/backdoor.sock")),
        ("./bd.sock", Path("bd.sock")),
    ],
)
def test_backdoor_path(text: str, path: Path | None) -> None:
    assert parse_backdoor_path(text) == BackdoorConfig(unix_path=path)
    assert parse_backdoor_path(text).enabled is (path is not None)


@pytest.mark.parametrize("text", ["bd.sock", "1234", "127.0.0.1:1234"])
def test_backdoor_path_rejects(text: str) -> None:
    with pytest.raises(RuntimeConfigError, match="--backdoor-tcp"):
        parse_backdoor_path(text)


@pytest.mark.parametrize(
    ("text", "tcp"),
    [
        ("1234", HostPort(host="127.0.0.1", port=1234)),
        ("127.0.0.2:99", HostPort(host="127.0.0.2", port=99)),
        ("[::1]:99", HostPort(host="::1", port=99)),
        ("localhost:99", HostPort(host="localhost", port=99)),
    ],
)
def test_backdoor_tcp(text: str, tcp: HostPort) -> None:
    assert parse_backdoor_tcp(text) == tcp


@pytest.mark.parametrize("text", ["0.0.0.0:1", "10.0.0.1:1", "[::]:1", "example.org:1", "99999", "x"])
def test_backdoor_tcp_rejects(text: str) -> None:
    with pytest.raises(RuntimeConfigError):
        parse_backdoor_tcp(text)


def test_backdoor_is_one_of_socket_or_tcp() -> None:
    with pytest.raises(RuntimeConfigError, match="choose one"):
        BackdoorConfig(unix_path=Path("/x/bd.sock"), tcp=HostPort(host="127.0.0.1", port=1), secret="s" * 16)


def test_base_dir_that_is_a_file_is_refused(tmp_path):
    from wubloader.runtime.config import StoreConfig

    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(RuntimeConfigError, match="not a directory"):
        StoreConfig(base_dir=afile)
    StoreConfig(base_dir=tmp_path / "missing")  # created later by whoever writes first


def test_env_file_variable_reads_a_secret_from_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "port"
    secret.write_text("9123\n")
    monkeypatch.setenv("WUBLOADER_BASE_DIR_FILE", str(tmp_path / "missing-but-moot"))
    monkeypatch.setenv("WUBLOADER_BASE_DIR", "/env")
    monkeypatch.setenv("WUBLOADER_PORT_FILE", str(secret))
    args = make_parser().parse_args([])
    assert args.port == 9123 and args.base_dir == Path("/env")
    assert make_parser().parse_args(["--port", "1"]).port == 1


def test_env_file_errors_name_the_variable_never_the_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WUBLOADER_PORT_FILE", str(tmp_path / "absent"))
    with pytest.raises(SystemExit) as exit_info:
        make_parser().parse_args(["--base-dir", "/x"])
    assert exit_info.value.code == 2
    assert "WUBLOADER_PORT_FILE=" in capsys.readouterr().err
    secret = tmp_path / "port"
    secret.write_text("hunter2-secret")
    monkeypatch.setenv("WUBLOADER_PORT_FILE", str(secret))
    with pytest.raises(SystemExit):
        make_parser().parse_args(["--base-dir", "/x"])
    err = capsys.readouterr().err
    assert "WUBLOADER_PORT_FILE" in err and "hunter2" not in err


def test_env_file_satisfies_a_required_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "base").write_text("/from/file\n")
    monkeypatch.setenv("WUBLOADER_BASE_DIR_FILE", str(tmp_path / "base"))
    assert make_parser().parse_args([]).base_dir == Path("/from/file")
