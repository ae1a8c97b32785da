"""`wubloader node --name`: the cutter's name in the cluster (the hostname is shared by nodes on one host)."""

from __future__ import annotations

import socket

import pytest

from wubloader.cli import build_parser
from wubloader.node.app import config_from_args
from wubloader.runtime.errors import RuntimeConfigError


def editing(tmp_path, *extra: str):
    args = build_parser("node").parse_args(
        ["node", "--base-dir", str(tmp_path), "--db", "sqlite:///x.db", *extra]
    )
    config = config_from_args(args)
    assert config.editing is not None
    return config.editing


def test_name_names_the_cutter(tmp_path):
    assert editing(tmp_path, "--name", "node-b").cutter_name == "node-b"


def test_the_cutter_is_named_after_the_host_by_default(tmp_path):
    assert editing(tmp_path).cutter_name == socket.gethostname()


@pytest.mark.parametrize("bad", ["", "a\tb"])
def test_an_unprintable_or_empty_name_is_refused(tmp_path, bad):
    with pytest.raises(RuntimeConfigError, match="--name must be a non-empty printable name"):
        editing(tmp_path, "--name", bad)
