"""The editor's static routes on a real aiohttp app: pages, page config, assets, no escape from the folder."""

from __future__ import annotations

import re
import shutil

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from wubloader.editor.errors import EditorNotInstalled
from wubloader.editor.routes import STATIC_ROOT, EditorConfig, add_editor_routes


@pytest.fixture
async def client():
    app = web.Application()
    add_editor_routes(app, EditorConfig(restreamer_url="http://r.example/", authentication=False))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


IMPORT = re.compile(r"^import .* from '([^']+)';", re.MULTILINE)
PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)">')


def module_graph(entry: str) -> set[str]:
    """Every module URL `entry` imports, directly or not (the vendor files are not read)."""
    found: set[str] = set()
    todo = [entry]
    while todo:
        url = todo.pop()
        if url in found:
            continue
        found.add(url)
        if not url.startswith("/editor/vendor/"):
            text = (STATIC_ROOT / url.removeprefix("/editor/")).read_text()
            todo += [
                spec if spec.startswith("/") else "/editor/js/" + spec.removeprefix("./")
                for spec in IMPORT.findall(text)
            ]
    return found - {entry}


@pytest.mark.parametrize(
    ("page", "entry"),
    [
        ("edit.html", "/editor/js/edit.js"),
        ("watch.html", "/editor/js/watch.js"),
        ("index.html", "/editor/js/events.js"),
    ],
)
def test_each_page_preloads_exactly_its_module_graph_and_config(page, entry):
    """All modules are fetched at once instead of one level of imports after another."""
    html = (STATIC_ROOT / page).read_text()
    assert f'<script type="module" src="{entry}">' in html
    assert set(PRELOAD.findall(html)) == module_graph(entry)
    assert '<link rel="preload" href="/editor/config.json" as="fetch" crossorigin="anonymous">' in html


@pytest.mark.parametrize(
    ("path", "title"), [("/", "Events"), ("/edit/42", "Edit"), ("/watch", "Watch a stream")]
)
async def test_pages(client, path, title):
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert f"<title>{title}" in await response.text()


async def test_page_config(client):
    response = await client.get("/editor/config.json")
    assert await response.json() == {
        "restreamer": "http://r.example",
        "thrimshim": "",
        "authentication": False,
        "oidc_issuer": None,
        "oidc_client_id": None,
    }


async def test_assets_are_javascript_and_revalidated(client):
    for path in ("/editor/js/player.js", "/editor/vendor/hls.min.js"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type in ("text/javascript", "application/javascript"), path
        assert response.headers["Cache-Control"] == "no-cache"
    assert (await client.get("/editor/style.css")).content_type == "text/css"


@pytest.mark.parametrize(
    "path", ["/editor/../routes.py", "/editor/%2e%2e/routes.py", "/editor/", "/editor/nope.js"]
)
async def test_nothing_outside_the_static_folder(client, path):
    response = await client.get(path)
    assert response.status in (403, 404), path


def test_missing_vendor_files_are_a_clear_error(tmp_path):
    root = tmp_path / "static"
    shutil.copytree(STATIC_ROOT, root, ignore=shutil.ignore_patterns("vendor"))
    with pytest.raises(EditorNotInstalled, match=r"hls\.min\.js is missing: run bin/setup"):
        add_editor_routes(web.Application(), EditorConfig(root=root))
