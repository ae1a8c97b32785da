"""A peer listing names that would escape the store: never used as paths, nothing written outside."""

import json

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import STORE_START
from tests.harness.store_builder import write_segment
from wubloader.maintenance.peers import PeerListings
from wubloader.maintenance.scope import TimeRange
from wubloader.maintenance.versions import find_moments, tombstone_losers
from wubloader.runtime.http_client import create_session
from wubloader.store import SegmentType
from wubloader.store.tombstones import TombstoneNote

EVIL = [
    "00:00.000000-2.0-full-x/../../../../../escaped.ts",
    "../escaped.ts",
    ".hidden.ts",
    "00:00.000000-2.0-full-" + "B" * 43 + ".ts",
]


def hostile_app() -> web.Application:
    async def names(request: web.Request) -> web.Response:
        depth = len([p for p in request.path.split("/") if p]) - 1
        listing = [["chan", ".."], ["source"], ["2024-05-01T10", "../.."], EVIL][depth]
        return web.Response(text=json.dumps(listing), content_type="application/json")

    app = web.Application()
    app.router.add_get("/files", names)
    app.router.add_get("/files/{tail:.*}", names)
    return app


async def test_unsafe_peer_names_are_dropped(tmp_path):
    base = tmp_path / "store"
    write_segment(base, STORE_START, content=b"ours", type=SegmentType.SUSPECT)
    async with TestServer(hostile_app(), host="127.0.0.1") as server, create_session() as session:
        url = str(server.make_url("")).rstrip("/")
        moments = await find_moments(base, [url], PeerListings(session), None, TimeRange())
    assert [m.keep.name for m in moments] == ["00:00.000000-2.0-full-" + "B" * 43 + ".ts"]
    note = TombstoneNote(reason="test", who="t", when=STORE_START)
    hidden = tombstone_losers(base, moments, note)
    assert [p.name for p in hidden] == [next(base.rglob("*suspect*.ts")).name]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and base not in p.parents) == []
