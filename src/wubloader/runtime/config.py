"""Command-line/env configuration: an env-aware argparse parser, shared config sections, CLI value parsers."""

from __future__ import annotations

import argparse
import functools
import ipaddress
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from wubloader.errors import WubloaderError
from wubloader.runtime.errors import RuntimeConfigError
from wubloader.runtime.logsetup import parse_log_level

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

ENV_PREFIX = "WUBLOADER_"
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s|m|h|d)?", re.ASCII)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

T = TypeVar("T")


def env_name(option: str) -> str:
    """Return the environment variable for a long option: `--base-dir` → `WUBLOADER_BASE_DIR`."""
    return ENV_PREFIX + option.lstrip("-").replace("-", "_").upper()


def _action_env_name(action: argparse.Action) -> str | None:
    """The env variable feeding `action`, or None for positionals, --help/--version and short-only flags."""
    if action.dest is argparse.SUPPRESS or (action.nargs == 0 and action.default is argparse.SUPPRESS):
        return None  # --help and --version are zero-argument actions without a default
    for option in action.option_strings:
        if option.startswith("--"):
            return env_name(option)
    return None


def _show(text: str) -> str:
    """Quote a user-supplied value for an error message: one line, at most 64 characters."""
    return repr(text[:64]) + ("…" if len(text) > 64 else "")


def parse_bool(text: str) -> bool:
    """Parse 1/true/yes/on or 0/false/no/off (case-insensitive); raise RuntimeConfigError otherwise."""
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise RuntimeConfigError(f"expected a boolean (1/true/yes/on or 0/false/no/off), got {_show(text)}")


def cli_type(func: Callable[[str], T]) -> Callable[[str], T]:
    """Wrap a parser for use as argparse `type=`, so its ValueError message reaches the user.

    Plain argparse turns any ValueError into "invalid <name> value", hiding why the value is wrong.
    """

    @functools.wraps(func)
    def convert(text: str) -> T:
        try:
            return func(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    return convert


class EnvHelpFormatter(argparse.HelpFormatter):
    """Appends `[env WUBLOADER_X]` to each option's help so operators can discover the variables."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        name = _action_env_name(action)
        if name is None or text is argparse.SUPPRESS:
            return text
        return f"{text} [env {name}]" if text else f"[env {name}]"


class _BadEnvValue:
    """Holds an unusable env value's error until parsing ends: `--help` or an explicit flag makes it moot."""

    def __init__(self, message: str) -> None:
        self.message = message


class EnvArgumentParser(argparse.ArgumentParser):
    """ArgumentParser whose every `--foo-bar` option defaults to env `WUBLOADER_FOO_BAR`.

    Precedence: command line > environment > `default=`; `WUBLOADER_FOO_BAR_FILE` names a file holding
    the value instead (for secrets; the variable itself wins). The env text goes through the option's
    `type=` and `choices`; flags (`store_true`, `store_false`, BooleanOptionalAction) read
    1/true/yes/on or 0/false/no/off; `nargs` lists read whitespace-separated items. An empty variable
    counts as unset. A required option is satisfied by its variable. A bad value that the command
    line does not override exits with status 2 and a message naming the variable (after `--help`
    had its chance). Subparsers created by `add_subparsers()` inherit the class. Positionals and
    `append`-style actions are not read from the environment.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", EnvHelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Pre-fill `namespace` from the environment, then let argparse apply the command line on top."""
        filled = argparse.Namespace() if namespace is None else namespace
        relaxed: list[argparse.Action] = []
        for action in self._actions:
            name = _action_env_name(action)
            if name is None or hasattr(filled, action.dest):
                continue
            value = _env_or_file_value(action, name)
            if value is None:
                continue
            if isinstance(value, _BadEnvValue) and _is_count(action):
                self.error(value.message)  # argparse would do arithmetic on the placeholder
            setattr(filled, action.dest, value)
            if action.required:
                action.required = False
                relaxed.append(action)
        try:
            parsed, extras = super().parse_known_args(args, filled)
        finally:
            # The env value satisfied `required` for this call only; restore it for the next parse.
            for action in relaxed:
                action.required = True
        for value in vars(parsed).values():
            if isinstance(value, _BadEnvValue):
                self.error(value.message)
        return parsed, extras


def _env_or_file_value(action: argparse.Action, name: str) -> Any:
    """The converted value of `name` (or of `name`_FILE's file); None when neither is set."""
    text = os.environ.get(name)
    if text:
        return _env_value(action, name, text)
    from_file = _env_file_text(name)
    if not from_file or isinstance(from_file, _BadEnvValue):
        return from_file or None
    value = _env_value(action, name, from_file)
    if isinstance(value, _BadEnvValue):
        # The text is a secret's: never repeat it in an error message.
        return _BadEnvValue(f"environment variable {name}_FILE: the file's value is invalid for this option")
    return value


def _env_file_text(name: str) -> str | _BadEnvValue | None:
    """The value of `<name>_FILE`'s file (stripped), so secrets come from files (compose secrets).

    `<name>` itself wins when both are set. An unreadable file is a usage error naming the variable.
    """
    path = os.environ.get(name + "_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        return _BadEnvValue(f"environment variable {name}_FILE={_show(path)}: cannot read it: {reason}")


def _is_count(action: argparse.Action) -> bool:
    """`action="count"` is the only zero-argument action without a `const`."""
    is_boolean = isinstance(action, argparse.BooleanOptionalAction)
    return action.nargs == 0 and action.const is None and not is_boolean


def _env_value(action: argparse.Action, name: str, text: str) -> Any:
    """Convert one env value as argparse would convert the same text on the command line."""
    try:
        if action.nargs == 0:
            return _env_flag(action, text)
        if action.nargs in ("*", "+") or isinstance(action.nargs, int):
            return [_env_convert(action, item) for item in text.split()]
        return _env_convert(action, text)
    except (argparse.ArgumentTypeError, WubloaderError) as exc:
        return _BadEnvValue(f"environment variable {name}={_show(text)}: {exc}")
    except (TypeError, ValueError):
        type_name = getattr(action.type, "__name__", "")
        what = f"invalid {type_name} value" if type_name else "invalid value"
        return _BadEnvValue(f"environment variable {name}={_show(text)}: {what}")


def _env_flag(action: argparse.Action, text: str) -> Any:
    """A zero-argument option set from env: booleans for flags, an integer for `count`."""
    if isinstance(action, argparse.BooleanOptionalAction):
        return parse_bool(text)
    if _is_count(action):
        return int(text)
    return action.const if parse_bool(text) else action.default


def _env_convert(action: argparse.Action, text: str) -> Any:
    """Apply `type=` and `choices` to one env item."""
    value = action.type(text) if callable(action.type) else text
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(repr, action.choices))
        raise argparse.ArgumentTypeError(f"invalid choice {value!r} (choose from {choices})")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class HostPort:
    """A TCP address; `host` is without IPv6 brackets."""

    host: str
    port: int

    def __post_init__(self) -> None:
        _check_host(self.host)
        _check_port(self.port)

    @property
    def url_host(self) -> str:
        """The host as written in a URL (IPv6 in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host


def _check_port(port: int) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise RuntimeConfigError(f"port must be an integer in 0..65535, got {port!r}")


def _check_host(host: str) -> None:
    if not isinstance(host, str) or not host or any(c.isspace() or c in "/[]" for c in host):
        raise RuntimeConfigError(f"invalid host {host!r}")


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP literals (127.0.0.0/8, ::1); hostnames are not resolved."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_port(text: str) -> int:
    """Parse a TCP port 0..65535 (0 = pick a free one); raise RuntimeConfigError otherwise."""
    if not text.isascii() or not text.strip().isdigit():
        raise RuntimeConfigError(f"expected a port number, got {_show(text)}")
    port = int(text)
    _check_port(port)
    return port


def parse_host_port(text: str) -> HostPort:
    """Parse `HOST:PORT` or `[IPV6]:PORT`; raise RuntimeConfigError otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise RuntimeConfigError(f"expected HOST:PORT, got {_show(text)}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise RuntimeConfigError(f"IPv6 addresses need brackets ([::1]:PORT), got {_show(text)}")
    return HostPort(host=host, port=parse_port(port))


def parse_duration_seconds(text: str) -> float:
    """Parse a non-negative duration: `120`, `1.5`, `500ms`, `90s`, `2m`, `1h`, `1d` → seconds."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise RuntimeConfigError(f"expected a duration like 120, 1.5, 90s, 2m or 1h, got {_show(text)}")
    seconds = float(match[1]) * _DURATION_UNITS[match[2] or "s"]
    if not math.isfinite(seconds):
        raise RuntimeConfigError(f"duration out of range: {_show(text)}")
    return seconds


def parse_amount(text: str) -> float:
    """A non-negative, finite number (a size, a rate): `64`, `0.5`; RuntimeConfigError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise RuntimeConfigError(f"expected a number, got {_show(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise RuntimeConfigError(f"expected a non-negative number, got {_show(text)}")
    return value


def parse_csv(text: str) -> tuple[str, ...]:
    """Split `a, b,,c` into `("a", "b", "c")`: items stripped, empty ones and repeats dropped."""
    items = (item.strip() for item in text.split(","))
    return tuple(dict.fromkeys(item for item in items if item))


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreConfig:
    """Where the segment store lives."""

    base_dir: Path

    def __post_init__(self) -> None:
        check_base_dir(self.base_dir)


def check_base_dir(base_dir: object) -> None:
    """A usable store root: a Path without NUL that is a directory if it exists (missing ones are created).

    Raises RuntimeConfigError, so a typo'd --base-dir pointing at a file fails at start-up, not later.
    """
    if not isinstance(base_dir, Path):
        raise RuntimeConfigError(f"base_dir must be a Path, got {type(base_dir).__name__}")
    if "\0" in str(base_dir):
        raise RuntimeConfigError("base_dir contains a NUL character")
    if base_dir.exists() and not base_dir.is_dir():
        raise RuntimeConfigError(f"--base-dir {base_dir} exists and is not a directory")


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpConfig:
    """Where an HTTP service listens; loopback by default so nothing is exposed by accident."""

    host: str = "127.0.0.1"
    port: int = 8000

    def __post_init__(self) -> None:
        _check_host(self.host)
        _check_port(self.port)


MIN_BACKDOOR_SECRET = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class BackdoorConfig:
    """Where the debug console listens: a Unix socket `unix_path` (mode 0600, the normal way) or,
    only when asked for explicitly, a loopback TCP address `tcp` that first demands `secret`.

    Neither set means off. The secret is never shown (not in repr, logs or errors).
    """

    unix_path: Path | None = None
    tcp: HostPort | None = None
    secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.unix_path is not None and self.tcp is not None:
            raise RuntimeConfigError("choose one of --backdoor (a Unix socket) and --backdoor-tcp")
        if self.tcp is None:
            return
        if not is_loopback_host(self.tcp.host):
            raise RuntimeConfigError(
                f"backdoor must listen on a loopback address (127.0.0.1, ::1, localhost), "
                f"not {self.tcp.host!r}"
            )
        if self.secret is None or len(self.secret) < MIN_BACKDOOR_SECRET:
            raise RuntimeConfigError(
                f"--backdoor-tcp needs --backdoor-secret-file holding a secret of at least "
                f"{MIN_BACKDOOR_SECRET} characters"
            )

    @property
    def enabled(self) -> bool:
        """Whether a backdoor should be opened at all."""
        return self.tcp is not None or self.unix_path is not None


def parse_backdoor_path(text: str) -> BackdoorConfig:
    """CLI type for `--backdoor PATH`: a Unix socket path (must contain `/`); empty or `0` is off."""
    if text.strip() in ("", "0"):
        return BackdoorConfig()
    if "/" not in text:
        raise RuntimeConfigError(
            f"--backdoor takes a Unix socket path containing '/', got {_show(text)} "
            "(TCP needs --backdoor-tcp and --backdoor-secret-file)"
        )
    return BackdoorConfig(unix_path=Path(text))


def parse_backdoor_tcp(text: str) -> HostPort:
    """CLI type for `--backdoor-tcp`: `PORT` (on 127.0.0.1) or `HOST:PORT` on a loopback host."""
    address = HostPort(host="127.0.0.1", port=parse_port(text)) if text.isdigit() else parse_host_port(text)
    if not is_loopback_host(address.host):
        raise RuntimeConfigError(f"backdoor must listen on a loopback address, not {address.host!r}")
    return address


def read_backdoor_secret(path: Path) -> str:
    """The secret in file `path` (surrounding whitespace stripped); RuntimeConfigError if unreadable."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise RuntimeConfigError(f"cannot read --backdoor-secret-file {path}: {exc}") from None


def backdoor_config(args: argparse.Namespace) -> BackdoorConfig:
    """The BackdoorConfig of the common flags (`add_common_arguments`); RuntimeConfigError if bad.

    `args.backdoor` alone is the Unix socket's config; only this adds the TCP flags and the secret.
    """
    unix: BackdoorConfig = args.backdoor
    if args.backdoor_tcp is None:
        return unix
    secret_file: Path | None = args.backdoor_secret_file
    return BackdoorConfig(
        unix_path=unix.unix_path,
        tcp=args.backdoor_tcp,
        secret=read_backdoor_secret(secret_file) if secret_file is not None else None,
    )


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags every component shares: `--log-level`, the backdoor flags, `--metrics-port/-host`.

    Build the backdoor's config from the parsed flags with `backdoor_config(args)`.

    Defaults: log level None (setup_logging then reads env/INFO), backdoor off, metrics port None
    (no separate metrics server). Metrics (and /healthz, /readyz) stay on loopback unless
    `--metrics-host` says otherwise: a container's probes and Prometheus need a wider address.
    """
    parser.add_argument(
        "--log-level",
        type=cli_type(parse_log_level),
        default=None,
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)",
    )
    parser.add_argument(
        "--backdoor",
        type=cli_type(parse_backdoor_path),
        default=BackdoorConfig(),
        metavar="PATH",
        help="open a Python debug console on this Unix socket, owner-only (default off)",
    )
    parser.add_argument(
        "--backdoor-tcp",
        type=cli_type(parse_backdoor_tcp),
        default=None,
        metavar="[HOST:]PORT",
        help="open the console on a loopback TCP port instead; needs --backdoor-secret-file",
    )
    parser.add_argument(
        "--backdoor-secret-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="file holding the secret a TCP console client must send as its first line",
    )
    parser.add_argument(
        "--metrics-port",
        type=cli_type(parse_port),
        default=None,
        metavar="PORT",
        help="serve Prometheus /metrics on this port (components without their own HTTP server)",
    )
    parser.add_argument(
        "--metrics-host",
        default=None,
        metavar="HOST",
        help="address for --metrics-port (default 127.0.0.1, or the component's own --host)",
    )
