"""`--db`: peers come from the `nodes` table, re-read on every refresh, on both engines."""

import pytest

from wubloader.backfiller.errors import NodeListError
from wubloader.backfiller.nodes import DatabaseNodeSource, Peer
from wubloader.db import nodes
from wubloader.db.database import Database


async def test_reads_backfill_nodes_and_sees_changes(database, caplog):
    with database.transaction() as conn:
        nodes.put_node(conn, nodes.Node(name="b", url="http://B:8000/"))
        nodes.put_node(conn, nodes.Node(name="a", url="http://a:8000"))
        nodes.put_node(conn, nodes.Node(name="off", url="http://off:8000", backfill_from=False))
        nodes.put_node(conn, nodes.Node(name="broken", url="ftp://nope"))
    source = DatabaseNodeSource(database)
    assert await source.nodes() == [Peer(name="a", url="http://a:8000"), Peer(name="b", url="http://b:8000")]
    assert "skipping node 'broken'" in caplog.text
    with database.transaction() as conn:
        nodes.delete_node(conn, "a")
        nodes.put_node(conn, nodes.Node(name="c", url="http://c:8000"))
    assert [p.name for p in await source.nodes()] == ["b", "c"]


async def test_an_unmigrated_database_is_a_node_list_error(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with pytest.raises(NodeListError, match="cannot read the nodes table"):
        await DatabaseNodeSource(database).nodes()
    database.close()
