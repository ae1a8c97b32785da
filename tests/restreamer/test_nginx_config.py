"""deploy/nginx/restreamer.conf.template with real nginx: /segments honours tombstones, the rest proxies."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from yarl import URL

from tests.backfiller.snapshots import temp_files, visible
from tests.conftest import STORE_START
from tests.harness.processes import free_port, start_component, wait_until
from tests.harness.store_builder import write_segment
from wubloader.backfiller import Backfiller, BackfillerConfig, PassResult, StaticNodeSource, peer_from_url
from wubloader.runtime.http_client import create_session
from wubloader.store import SegmentType, create_tombstone

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "restreamer.conf.template"
WRAPPER = """
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/restreamer.conf;
}}
"""


def render_template(**values: str) -> str:
    """Substitute `${WUBLOADER_*}` like the nginx image's envsubst does; nginx's own `$vars` stay."""
    return re.sub(r"\$\{(WUBLOADER_[A-Z_]+)\}", lambda m: values[m[1]], TEMPLATE.read_text())


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(str(URL(url, encoded=True)), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def nginx_front(tmp_path, components):
    base = tmp_path / "store"
    base.mkdir()
    port, nginx_port = free_port(), free_port()
    components.append(
        start_component(
            ["restreamer", "--base-dir", str(base), "--port", str(port)], tmp_path / "logs", port=port
        )
    )
    conf_dir = tmp_path / "nginx"
    conf_dir.mkdir()
    rendered = render_template(
        WUBLOADER_BASE_DIR=str(base),
        WUBLOADER_NGINX_LISTEN=f"127.0.0.1:{nginx_port}",
        WUBLOADER_RESTREAMER=f"127.0.0.1:{port}",
    )
    (conf_dir / "restreamer.conf").write_text(rendered)
    # As root, nginx workers would switch to `nobody`, who cannot enter pytest's 0700 temp dirs.
    user = "user root;" if os.geteuid() == 0 else ""
    (conf_dir / "nginx.conf").write_text(WRAPPER.format(tmp=conf_dir, user=user))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-c", str(conf_dir / "nginx.conf"), "-e", str(conf_dir / "error.log")])
    url = f"http://127.0.0.1:{nginx_port}"
    try:
        wait_until(lambda: _answers(f"{url}/files"), timeout=20, message="nginx to proxy")
        yield base, url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


def seg_url(url: str, path: Path) -> str:
    return f"{url}/segments/" + "/".join(path.parts[-4:]).replace(":", "%3A")


def test_segments_served_and_tombstones_honoured(nginx_front):
    base, url = nginx_front
    paths = [write_segment(base, STORE_START.replace(second=2 * i)) for i in range(3)]
    assert get(seg_url(url, paths[0])) == (200, paths[0].read_bytes())
    create_tombstone(paths[1])
    assert get(seg_url(url, paths[1]))[0] == 404
    temp = write_segment(base, STORE_START.replace(second=30), type=SegmentType.TEMP)
    assert get(seg_url(url, temp))[0] == 404
    # Listings and playlists come from the restreamer through the proxy, and agree.
    status, body = get(f"{url}/files/chan/source/2024-05-01T10?tombstones=true")
    assert status == 200 and paths[1].name not in body.decode() and "tombstone" in body.decode()
    status, body = get(f"{url}/playlist/chan/source.m3u8?start=2024-05-01T10:00:00&end=2024-05-01T10:00:06")
    assert status == 200 and body.decode().count("#EXT-X-DISCONTINUITY") == 1


def test_hostile_paths_refused(nginx_front, tmp_path):
    base, url = nginx_front
    inside = write_segment(base, STORE_START, content=b"inside")
    secret = write_segment(tmp_path / "outside", STORE_START.replace(second=4), content=b"secret")
    inside.with_name(secret.name).symlink_to(secret)
    (base / "evil").symlink_to(tmp_path / "outside" / "chan", target_is_directory=True)
    (inside.parent / ".hidden.ts").write_bytes(b"hidden")
    hour = "2024-05-01T10"
    for target in [
        f"/segments/chan/source/{hour}/{secret.name}",
        f"/segments/evil/source/{hour}/{secret.name}",
        f"/segments/chan/source/{hour}/.hidden.ts",
        f"/segments/chan/source/{hour}/..%2F..%2F..%2F..%2Foutside%2Fchan%2Fsource%2F{hour}%2F{secret.name}",
        f"/segments/chan/source/{hour}/../../../../outside/chan/source/{hour}/{secret.name}",
        f"/segments/chan/source/{hour}/a%00b.ts",
        "/segments/chan/source",
    ]:
        status, body = get(url + target.replace(":", "%3A"))
        assert 400 <= status < 500, target
        assert b"secret" not in body and b"hidden" not in body, target


def test_a_backfiller_copies_every_segment_through_nginx_byte_for_byte(nginx_front, tmp_path):
    """Real nginx answers (static files, keep-alive, its own headers) read by the backfiller's
    download threads; a tombstoned segment stays uncopied."""
    base, url = nginx_front
    paths = [
        write_segment(base, STORE_START.replace(second=2 * i), content=os.urandom(300_000 + i))
        for i in range(6)
    ]
    create_tombstone(paths[2])
    local = tmp_path / "local"
    result = asyncio.run(_backfill_once(local, url))
    assert result.complete and result.copied == 5
    assert visible(local) == visible(base) and len(visible(local)) == 5
    assert temp_files(local) == []


async def _backfill_once(local: Path, url: str) -> PassResult:
    async with create_session() as session:
        nodes = StaticNodeSource(peers=(peer_from_url(url),))
        return await Backfiller(BackfillerConfig(base_dir=local), session=session, nodes=nodes).run_once()
