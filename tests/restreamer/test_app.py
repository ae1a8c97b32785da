"""App wiring: OpenAPI covers every route, metrics use bounded labels, CORS everywhere, the CLI."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import STORE_START
from tests.harness.store_builder import build_store
from wubloader.restreamer.app import RestreamerConfig, create_app


async def test_openapi_documents_every_route(tmp_path, make_client):
    client = await make_client(tmp_path)
    response = await client.get("/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"].startswith("3.")
    app = create_app(RestreamerConfig(base_dir=tmp_path))
    routes = {r.resource.canonical for r in app.router.routes()}
    assert set(doc["paths"]) == routes
    for path, item in doc["paths"].items():
        operation = item["get"]
        assert operation["summary"] and "200" in operation["responses"], path
        names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert names == {part[1:-1] for part in path.replace(".", "/").split("/") if part.startswith("{")}
    playlist = doc["paths"]["/playlist/{channel}/{quality}.m3u8"]["get"]["parameters"]
    assert {p["name"] for p in playlist if p["in"] == "query"} == {"start", "end"}


async def test_metrics_have_bounded_labels(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 2)
    client = await make_client(tmp_path)
    for url in ["/files/chan", "/files/other", "/files/chan/source/2024-05-01T10", "/no/such/thing"]:
        await client.get(url)
    text = await (await client.get("/metrics")).text()
    lines = [line for line in text.splitlines() if line.startswith("wubloader_http_requests_total{")]
    lines = [line for line in lines if 'service="restreamer"' in line]
    assert any('route="/files/{channel}"' in line for line in lines)
    assert any('route="/files/{channel}/{quality}/{hour}"' in line for line in lines)
    assert not any("other" in line or "2024-05-01" in line or "/no/such" in line for line in lines)


async def test_cors_on_every_kind_of_response(tmp_path, make_client):
    build_store(tmp_path, STORE_START, 2)
    client = await make_client(tmp_path)
    for url in ["/files", "/nope", "/files/.x", "/playlist/chan/source.m3u8", "/metrics", "/openapi.json"]:
        response = await client.get(url)
        assert response.headers.get("Access-Control-Allow-Origin") == "*", url


def test_cli_help_lists_flags_and_env():
    result = subprocess.run(
        [sys.executable, "-m", "wubloader", "restreamer", "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    for flag in ("--base-dir", "--host", "--port", "WUBLOADER_BASE_DIR", "--log-level"):
        assert flag in result.stdout
