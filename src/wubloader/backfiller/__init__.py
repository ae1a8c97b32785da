"""Backfiller: copies segments and tombstones this node lacks from its peers, newest first."""

from wubloader.backfiller.backfiller import Backfiller
from wubloader.backfiller.config import BackfillerConfig, StartBound, parse_start
from wubloader.backfiller.nodes import (
    CombinedNodeSource,
    FileNodeSource,
    NodeSource,
    Peer,
    StaticNodeSource,
    peer_from_url,
)
from wubloader.backfiller.report import PassResult

__all__ = [
    "Backfiller",
    "BackfillerConfig",
    "CombinedNodeSource",
    "FileNodeSource",
    "NodeSource",
    "PassResult",
    "Peer",
    "StartBound",
    "StaticNodeSource",
    "parse_start",
    "peer_from_url",
]
