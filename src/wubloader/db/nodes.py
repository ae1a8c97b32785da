"""Queries of the `nodes` table: the cluster's peer list (backfiller, coverage page)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from wubloader.db.schema import nodes


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    name: str
    url: str
    backfill_from: bool = True


def list_nodes(connection: sa.Connection, *, backfill_only: bool = False) -> list[Node]:
    """Every node by name; with `backfill_only`, only those marked `backfill_from`."""
    query = sa.select(nodes).order_by(nodes.c.name)
    if backfill_only:
        query = query.where(nodes.c.backfill_from.is_(True))
    return [Node(**row) for row in connection.execute(query).mappings()]


def put_node(connection: sa.Connection, node: Node) -> None:
    """Insert or replace the node called `node.name`."""
    connection.execute(sa.delete(nodes).where(nodes.c.name == node.name))
    connection.execute(
        sa.insert(nodes).values(name=node.name, url=node.url, backfill_from=node.backfill_from)
    )


def delete_node(connection: sa.Connection, name: str) -> bool:
    return bool(connection.execute(sa.delete(nodes).where(nodes.c.name == name)).rowcount)
