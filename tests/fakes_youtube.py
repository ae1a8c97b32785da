"""A fake of Google's OAuth token endpoint and the YouTube Data API parts the cutter uses.

A real aiohttp app on 127.0.0.1 speaking the resumable-upload protocol, able to break the
connection part-way through the body, to answer 5xx after a complete body, and to report videos
`processed` on demand.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from dataclasses import dataclass, field

from aiohttp import web

from tests.harness.threaded_app import ThreadedApp

CREDENTIALS = {"client_id": "cid", "client_secret": "secret", "refresh_token": "refresh-1"}
_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")


@dataclass
class FakeVideo:
    video_id: str
    snippet: dict
    status: dict
    data: bytes
    thumbnails: list[bytes] = field(default_factory=list)


@dataclass
class UploadSession:
    metadata: dict
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


class FakeYouTube:
    """State of the fake; tests read it and set the fault knobs between or during uploads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[str, UploadSession] = {}
        self.videos: dict[str, FakeVideo] = {}
        self.token_requests = 0
        self.status_queries = 0
        self.updates = 0
        self.chunk_puts = 0
        self.break_at: int | None = None  # break the connection once this many bytes arrived
        self.broke = False
        self.fail_after_body: int | None = None  # answer this status once the full body is held
        self.process_immediately = False
        self.stall_final = False  # never answer the last chunk
        self._ids = itertools.count(1)
        self._server = ThreadedApp()

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> FakeYouTube:
        self._server.start(self.app())
        return self

    def stop(self) -> None:
        self._server.stop()

    def location_options(self, **extra: object) -> dict:
        return {"type": "youtube", "api_base_url": self.url, "token_url": f"{self.url}/token", **extra}

    def mark_processed(self, video_id: str) -> None:
        with self.lock:
            self.videos[video_id].status["uploadStatus"] = "processed"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/token", self.token)
        app.router.add_post("/upload/youtube/v3/videos", self.create)
        app.router.add_put("/upload/session/{sid}", self.put_chunk)
        app.router.add_get("/youtube/v3/videos", self.list_videos)
        app.router.add_put("/youtube/v3/videos", self.update_video)
        app.router.add_post("/upload/youtube/v3/thumbnails/set", self.set_thumbnail)
        return app

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if dict(form) != {**CREDENTIALS, "grant_type": "refresh_token"}:
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.token_requests += 1
        return web.json_response({"access_token": f"token-{self.token_requests}", "expires_in": 3600})

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "").startswith("Bearer token-")

    async def create(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.query.get("uploadType") != "resumable":
            return web.Response(status=401)
        sid = f"s{next(self._ids)}"
        self.sessions[sid] = UploadSession(metadata=await request.json())
        return web.Response(headers={"Location": f"{self.url}/upload/session/{sid}"})

    def _held(self, session: UploadSession) -> web.Response:
        if session.video_id is not None:
            return self._resource(self.videos[session.video_id], status=201)
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return web.Response(status=308, headers=headers)

    async def put_chunk(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.match_info["sid"])
        if session is None:
            return web.Response(status=404)
        match = _RANGE.match(request.headers.get("Content-Range", ""))
        if not self._authorized(request) or match is None:
            return web.Response(status=400, text="bad Content-Range")
        first, _last, total = match.groups()
        if first is None:
            self.status_queries += 1
            if total != "*" and int(total) == len(session.received) and session.video_id is None:
                return self._finish(session)
            return self._held(session)
        self.chunk_puts += 1
        if int(first) != len(session.received):
            return web.Response(status=400, text=f"expected offset {len(session.received)}")
        async for data in request.content.iter_any():
            if self.break_at is not None and not self.broke:
                room = self.break_at - len(session.received)
                if len(data) >= room:
                    session.received += data[:room]
                    self.broke = True
                    request.transport.close()
                    raise ConnectionResetError("fake: connection cut")
            session.received += data
        if total != "*" and int(total) == len(session.received):
            if self.stall_final:  # hold the answer to the last chunk until the server stops
                await asyncio.Event().wait()
            return self._finish(session)
        return self._held(session)

    def _finish(self, session: UploadSession) -> web.Response:
        vid = f"vid{next(self._ids)}"
        snippet = dict(session.metadata.get("snippet", {}))
        status = {**session.metadata.get("status", {}), "uploadStatus": "uploaded"}
        if self.process_immediately:
            status["uploadStatus"] = "processed"
        with self.lock:
            self.videos[vid] = FakeVideo(
                video_id=vid, snippet=snippet, status=status, data=bytes(session.received)
            )
        session.video_id = vid
        if self.fail_after_body is not None:
            return web.Response(status=self.fail_after_body, text="backend error")
        return self._resource(self.videos[vid], status=201)

    def _resource(self, video: FakeVideo, status: int = 200) -> web.Response:
        return web.json_response(
            {"id": video.video_id, "snippet": video.snippet, "status": video.status}, status=status
        )

    async def list_videos(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        ids = request.query.get("id", "").split(",")
        items = [
            {"id": v.video_id, "snippet": v.snippet, "status": v.status}
            for v in (self.videos.get(i) for i in ids)
            if v is not None
        ]
        return web.json_response({"items": items})

    async def update_video(self, request: web.Request) -> web.Response:
        body = await request.json()
        video = self.videos.get(body.get("id"))
        if not self._authorized(request) or video is None:
            return web.Response(status=404)
        self.updates += 1
        video.snippet = body["snippet"]
        video.status = body["status"]
        return self._resource(video)

    async def set_thumbnail(self, request: web.Request) -> web.Response:
        video = self.videos.get(request.query.get("videoId", ""))
        if not self._authorized(request) or video is None or request.content_type != "image/png":
            return web.Response(status=404)
        video.thumbnails.append(await request.read())
        return web.Response(text=json.dumps({"items": [{"default": {}}]}), content_type="application/json")
