"""Operator maintenance over a node's store and its peers: tombstones, bad versions, integrity, retention."""
