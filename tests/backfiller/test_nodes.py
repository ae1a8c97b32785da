"""Node sources (static, file, combined), self-exclusion, and the CLI's config parsing and errors."""

import subprocess
import sys
from datetime import datetime

import pytest

from wubloader.backfiller.config import StartBound, parse_rate, parse_start
from wubloader.backfiller.errors import NodeListError
from wubloader.backfiller.nodes import (
    CombinedNodeSource,
    FileNodeSource,
    Peer,
    StaticNodeSource,
    normalize_url,
    parse_node_lines,
    peer_from_url,
    select_peers,
)
from wubloader.runtime.errors import RuntimeConfigError


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("http://a:8000", "http://a:8000"),
        ("HTTP://Host:8000/", "http://host:8000"),
        ("https://node.example/wub/", "https://node.example/wub"),
        (" http://a/?x=1 ", "http://a"),
    ],
)
def test_normalize_url(text, url):
    assert normalize_url(text) == url


@pytest.mark.parametrize("text", ["ftp://a", "a:8000", "http://", ""])
def test_bad_urls_are_config_errors(text):
    with pytest.raises(RuntimeConfigError):
        normalize_url(text)


def test_peer_names_default_to_host_and_port():
    assert peer_from_url("http://127.0.0.1:8001") == Peer(name="127.0.0.1:8001", url="http://127.0.0.1:8001")
    assert peer_from_url("http://a", "alpha").name == "alpha"


def test_node_file_lines():
    lines = ["# comment", "", "   ", "alpha http://a:1", "http://b:2", "  # indented comment"]
    assert parse_node_lines(lines) == [
        Peer(name="alpha", url="http://a:1"),
        Peer(name="b:2", url="http://b:2"),
    ]
    with pytest.raises(RuntimeConfigError, match="line 2"):
        parse_node_lines(["http://a", "x y z"])


async def test_file_source_is_reread_and_merges_over_static(tmp_path):
    node_file = tmp_path / "nodes"
    node_file.write_text("alpha http://a:1\n")
    static = StaticNodeSource(
        peers=(Peer(name="alpha", url="http://old:1"), Peer(name="beta", url="http://b:2"))
    )
    combined = CombinedNodeSource(sources=(static, FileNodeSource(path=node_file)))
    assert {p.name: p.url for p in await combined.nodes()} == {"alpha": "http://a:1", "beta": "http://b:2"}
    node_file.write_text("gamma http://c:3\n")
    assert {p.name for p in await combined.nodes()} == {"alpha", "beta", "gamma"}
    node_file.unlink()
    with pytest.raises(NodeListError):
        await FileNodeSource(path=node_file).nodes()


def test_select_peers_excludes_itself_and_duplicates():
    peers = [
        Peer(name="me", url="http://x:1"),
        Peer(name="b", url="http://b:2"),
        Peer(name="b2", url="http://b:2"),
    ]
    assert select_peers(peers, self_name="me", self_url=None) == [peers[1]]
    assert select_peers(peers, self_name=None, self_url="http://X:1/") == [peers[1]]


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        ("24", StartBound(hours=24.0)),
        ("1.5", StartBound(hours=1.5)),
        ("2024-05-01T10:00", StartBound(at=datetime(2024, 5, 1, 10))),
        ("2024-05-01T12:00+02:00", StartBound(at=datetime(2024, 5, 1, 10))),
    ],
)
def test_parse_start(text, bound):
    assert parse_start(text) == bound
    assert bound.cutoff(datetime(2024, 5, 2, 10)) <= datetime(2024, 5, 2, 10)


def test_parse_rate_and_bad_values():
    assert parse_rate("2.5") == 2_500_000
    for text in ("-1", "fast", "nan"):
        with pytest.raises(RuntimeConfigError):
            parse_rate(text)
    with pytest.raises(RuntimeConfigError):
        parse_start("-3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no peers"),
        (["--db", "mysql://x/y"], "unsupported database"),
        (["--nodes", "ftp://x"], "node URL"),
        (["--nodes", "http://a:1", "--self-url", "nope"], "node URL"),
    ],
)
def test_cli_config_errors_exit_2_with_a_clear_message(tmp_path, args, message):
    done = subprocess.run(
        [sys.executable, "-m", "wubloader", "backfiller", "--base-dir", str(tmp_path), "--once", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and message in done.stderr
