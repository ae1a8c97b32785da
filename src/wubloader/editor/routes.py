"""Registers the editor's pages, assets and page configuration on an aiohttp app.

Used by thrimshim and by `wubloader node`; it imports no component, so any app can host the editor.
The pages talk only to the documented HTTP APIs, whose base URLs come from `/editor/config.json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from wubloader.editor.errors import EditorNotInstalled

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

STATIC_ROOT = Path(__file__).parent / "static"
# Third-party files bin/setup copies from node_modules (exact versions from package-lock.json).
VENDOR_FILES = ("hls.min.js",)
PAGES = {"/": "index.html", "/edit/{id}": "edit.html", "/watch": "watch.html"}
# Pages and modules change with each deploy; revalidate (ETag/Last-Modified make that a cheap 304).
NO_CACHE = {"Cache-Control": "no-cache"}


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorConfig:
    """What the pages need to know about the server side.

    `restreamer_url`/`thrimshim_url` are base URLs of those APIs ("" = the origin serving the page;
    `thrimshim_url` None = there is no edit API, only the restreamer view works).
    `authentication` False means writes need no sign-in (local use); `oidc_issuer` and
    `oidc_client_id` enable the OpenID Connect sign-in button.
    """

    restreamer_url: str = ""
    thrimshim_url: str | None = ""
    authentication: bool = True
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    root: Path = field(default=STATIC_ROOT)

    def page_config(self) -> dict[str, object]:
        """The JSON the pages load at start-up (never secrets: it is public)."""
        return {
            "restreamer": self.restreamer_url.rstrip("/"),
            "thrimshim": None if self.thrimshim_url is None else self.thrimshim_url.rstrip("/"),
            "authentication": self.authentication,
            "oidc_issuer": self.oidc_issuer,
            "oidc_client_id": self.oidc_client_id,
        }


def check_installed(root: Path) -> None:
    """Raise EditorNotInstalled naming the first missing vendor file."""
    for name in VENDOR_FILES:
        if not (root / "vendor" / name).is_file():
            raise EditorNotInstalled(f"editor file {root / 'vendor' / name} is missing: run bin/setup")


def add_editor_routes(app: web.Application, config: EditorConfig) -> None:
    """Serve the pages at `/`, `/edit/{id}`, `/watch` and the assets under `/editor/`.

    Raises EditorNotInstalled if the npm files were not copied into the served folder.
    """
    root = config.root
    check_installed(root)
    for path, name in PAGES.items():
        app.router.add_get(path, page_handler(root / name))
    settings = config.page_config()

    async def page_config(request: web.Request) -> web.Response:
        return web.json_response(settings, headers=NO_CACHE)

    app.router.add_get("/editor/config.json", page_config)
    app.router.add_static("/editor/", root, show_index=False, follow_symlinks=False)
    app.on_response_prepare.append(revalidate_assets)


def page_handler(path: Path) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers=NO_CACHE)

    return handler


async def revalidate_assets(request: web.Request, response: web.StreamResponse) -> None:
    """Editor assets are revalidated on every load, so a deploy never leaves a stale module mix."""
    if request.path.startswith("/editor/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-cache"
