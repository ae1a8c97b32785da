"""Parse a deploy file's wubloader invocation with our real CLI parser, as the container would."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING
from unittest import mock

from wubloader.cli import COMMANDS, build_parser
from wubloader.runtime.config import ENV_PREFIX, env_name

if TYPE_CHECKING:
    from pathlib import Path

    from tests.deploy.manifests import Invocation


def subcommand_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, int]:
    """The parser of the (possibly nested, e.g. `db upgrade`) subcommand and how many words name it."""
    assert argv and argv[0] in COMMANDS, f"{argv[:1]} is not a wubloader command"
    parser: argparse.ArgumentParser = build_parser(argv[0])
    used = 0
    while used < len(argv):
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subparsers or argv[used] not in subparsers[0].choices:
            break
        parser = subparsers[0].choices[argv[used]]
        used += 1
    return parser, used


def option_env_names(parser: argparse.ArgumentParser) -> set[str]:
    """Every WUBLOADER_* variable the parser reads (and its *_FILE form)."""
    names = {env_name(opt) for a in parser._actions for opt in a.option_strings if opt.startswith("--")}
    return names | {name + "_FILE" for name in names}


def unknown_options(invocation: Invocation) -> list[str]:
    """Flags and WUBLOADER_ variables the subcommand does not have."""
    parser, used = subcommand_parser(invocation.argv)
    known = {opt for action in parser._actions for opt in action.option_strings}
    flags = [word.split("=", 1)[0] for word in invocation.argv[used:] if word.startswith("-")]
    bad = [flag for flag in flags if flag not in known]
    variables = option_env_names(parser)
    bad += [name for name in invocation.env if name.startswith(ENV_PREFIX) and name not in variables]
    return bad


def parse_invocation(invocation: Invocation) -> argparse.Namespace:
    """Parse argv under the invocation's environment, container paths mapped to their host files."""
    parser, used = subcommand_parser(invocation.argv)
    argv = [host_path(word, invocation.files) for word in invocation.argv[used:]]
    env = {k: host_path(v, invocation.files) for k, v in invocation.env.items()}
    cleared = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    with mock.patch.dict(os.environ, {**cleared, **env}, clear=True):
        return parser.parse_args(argv)


def host_path(word: str, files: dict[str, Path]) -> str:
    prefix, eq, value = word.rpartition("=") if word.startswith("--") else ("", "", word)
    return f"{prefix}{eq}{files[value]}" if value in files else word
