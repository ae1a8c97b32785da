"""A local HTTP server speaking twitch's live protocol, for downloader tests (twitch is unreachable here).

GQL `PlaybackAccessToken` → usher master playlist in both shapes twitch has served (v1 at
`/api/channel/hls/`: names in EXT-X-MEDIA, "(source)"; v2 at `/api/v2/channel/hls/`: IVS-NAME and
IVS-VARIANT-SOURCE, no EXT-X-MEDIA), signed media URLs that expire → live media playlists advancing
faster than real time, with stitched-ad pods under one DATERANGE whose DURATION twitch rounds up to
the millisecond (PDTs are truncated), `Amazon`-titled ad segments, prefetch tags, and an fMP4
rendition with EXT-X-MAP. The token answer arrives in several packets, as a real API's may.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from tests.harness.threaded_app import ThreadedApp

CLIENT_ID = "kimne78kx3ncx6brgo4mv6wki5h1ko"


@dataclass
class Rendition:
    """One variant: `bodies[i % len]` is segment i's payload; `init` (fMP4) is served via EXT-X-MAP."""

    name: str
    group: str
    bodies: list[bytes]
    durations: list[float]
    init: bytes | None = None
    ext: str = "ts"
    codecs: str = "avc1.4D401F,mp4a.40.2"
    resolution: str | None = "320x180"
    bandwidth: int = 500000
    source: bool = False  # twitch marks it as the broadcast's own rendition

    @property
    def is_source(self) -> bool:
        return self.source or self.group == "chunked" or "(source)" in self.name

    def v1_lines(self, url: str) -> list[str]:
        """EXT-X-MEDIA + STREAM-INF as usher v1 writes them."""
        resolution = f",RESOLUTION={self.resolution},FRAME-RATE=25.000" if self.resolution else ""
        name = f"{self.name} (source)" if self.is_source and "(source)" not in self.name else self.name
        return [
            f'#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="{self.group}",NAME="{name}",AUTOSELECT=YES,DEFAULT=YES',
            f'#EXT-X-STREAM-INF:BANDWIDTH={self.bandwidth}{resolution},CODECS="{self.codecs}",VIDEO="{self.group}"',
            url,
        ]

    def v2_lines(self, url: str) -> list[str]:
        """One STREAM-INF with IVS-NAME / IVS-VARIANT-SOURCE as usher v2 writes it (no EXT-X-MEDIA)."""
        resolution = f",RESOLUTION={self.resolution},FRAME-RATE=25.000" if self.resolution else ""
        name = self.name.replace(" (source)", "")
        kind = "source" if self.is_source else "transcode"
        return [
            f'#EXT-X-STREAM-INF:BANDWIDTH={self.bandwidth},CODECS="{self.codecs}"{resolution},'
            f'STABLE-VARIANT-ID="{self.group}",IVS-NAME="{name}",IVS-VARIANT-SOURCE="{kind}"',
            url,
        ]


@dataclass
class FakeTwitch:
    """Publishes segment i at `t0 + i * interval` (PDT `base + i * duration`), until `total` are out.

    Segments in `amazon_ads` get an `Amazon` title; those in `daterange_ads` are covered by a
    stitched-ad DATERANGE. Media URLs expire `url_lifetime` seconds after the master was fetched.
    """

    renditions: list[Rendition]
    channel: str = "fakechan"
    interval: float = 0.5
    total: int = 40
    window: int = 6
    url_lifetime: float = 1e9
    base: datetime = datetime(2024, 5, 1, 12, 0, 0)
    amazon_ads: frozenset[int] = frozenset()
    daterange_ads: frozenset[int] = frozenset()
    online: bool = True
    gql_broken: bool = False
    # From this segment index on, PROGRAM-DATE-TIME is shifted by `skew_seconds` (twitch's known fault).
    skew_from: int | None = None
    skew_seconds: float = 0.4
    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    t0: float = 0.0

    def __post_init__(self) -> None:
        self._server = ThreadedApp()

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> FakeTwitch:
        app = web.Application()
        app.router.add_post("/gql", self._gql)
        app.router.add_get("/api/channel/hls/{channel}.m3u8", self._usher)
        app.router.add_get("/api/v2/channel/hls/{channel}.m3u8", self._usher)
        app.router.add_get("/v1/playlist/{rendition}/{expiry}.m3u8", self._media)
        app.router.add_get("/seg/{rendition}/{expiry}/{index}.{ext}", self._segment)
        app.router.add_get("/init/{rendition}.mp4", self._init)
        app.router.add_get("/prefetch/{rendition}/{index}", self._prefetch)
        self._server.start(app)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def published(self) -> int:
        return min(int((time.monotonic() - self.t0) / self.interval) + 1, self.total)

    def start_of(self, index: int, rendition: Rendition) -> datetime:
        skewed = self.skew_from is not None and index >= self.skew_from
        return (
            self.base
            + timedelta(seconds=self.skew_seconds if skewed else 0)
            + timedelta(seconds=sum(rendition.durations) * (index // len(rendition.durations)))
            + (timedelta(seconds=sum(rendition.durations[: index % len(rendition.durations)])))
        )

    def _rendition(self, name: str) -> Rendition:
        for r in self.renditions:
            if r.group == name:
                return r
        raise web.HTTPNotFound()

    async def _gql(self, request: web.Request) -> web.Response:
        self.counts["gql"] += 1
        if self.gql_broken:  # what an API change looks like (2021: the old endpoint vanished)
            return web.json_response({"errors": [{"message": "PersistedQueryNotFound"}]})
        body = await request.json()
        if (
            request.headers.get("Client-ID") != CLIENT_ID
            or body.get("operationName") != "PlaybackAccessToken"
        ):
            return web.json_response({"errors": [{"message": "bad request"}]}, status=400)
        login = body["variables"]["login"]
        value = json.dumps({"channel": login, "expires": int(time.time()) + 86400})
        token = {"value": value, "signature": f"sig-{len(value)}"}
        payload = json.dumps({"data": {"streamPlaybackAccessToken": token}}).encode()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for part in (payload[:10], payload[10:40], payload[40:]):  # several packets, with pauses
            await response.write(part)
            await asyncio.sleep(0.05)
        await response.write_eof()
        return response

    async def _usher(self, request: web.Request) -> web.Response:
        self.counts["usher"] += 1
        q = request.query
        if request.match_info["channel"] != self.channel or not self.online:
            return web.Response(status=404, text="offline")
        if (
            q.get("sig") != f"sig-{len(q.get('token', ''))}"
            or json.loads(q["token"])["channel"] != self.channel
        ):
            return web.Response(status=403, text="bad token")
        expiry = time.monotonic() + self.url_lifetime
        self.counts["usher_v2" if "/v2/" in request.path else "usher_v1"] += 1
        if "/v2/" in request.path:
            lines = ["#EXTM3U", '#EXT-X-SESSION-DATA:DATA-ID="com.amazon.ivs.manifest-node",VALUE="fake"']
            for r in self.renditions:
                lines += r.v2_lines(f"{self.url}/v1/playlist/{r.group}/{expiry:.3f}.m3u8")
        else:
            lines = ["#EXTM3U", '#EXT-X-TWITCH-INFO:NODE="fake",SERVER-TIME="0"']
            for r in self.renditions:
                lines += r.v1_lines(f"{self.url}/v1/playlist/{r.group}/{expiry:.3f}.m3u8")
        return web.Response(text="\n".join(lines) + "\n")

    def _pod_daterange(self, index: int, r: Rendition) -> str | None:
        """The DATERANGE opening an ad pod at `index`: DURATION rounded up to the ms like twitch's."""
        if index not in self.daterange_ads or index - 1 in self.daterange_ads:
            return None
        end = index
        while end in self.daterange_ads:
            end += 1
        start, after = self.start_of(index, r), self.start_of(end, r)
        # Twitch writes PDTs truncated to the ms and the pod's DURATION rounded *up*: the first live
        # segment then starts 1 ms before START-DATE + DURATION (its ad id holds the exact ns).
        millis = (_ms(after) - _ms(start)) // timedelta(milliseconds=1) + 1
        return (
            f'#EXT-X-DATERANGE:ID="stitched-ad-{index}-{millis * 1_000_000 - 7}",CLASS="twitch-stitched-ad",'
            f'START-DATE="{_pdt(start)}",DURATION={millis / 1000:.3f},X-TV-TWITCH-AD-ROLL-TYPE="MIDROLL",'
            f'X-TV-TWITCH-AD-POD-LENGTH="{end - index}"'
        )

    async def _media(self, request: web.Request) -> web.Response:
        self.counts["media"] += 1
        expiry = float(request.match_info["expiry"])
        if expiry < time.monotonic():
            self.counts["expired"] += 1
            return web.Response(status=403, text="expired")
        r = self._rendition(request.match_info["rendition"])
        count = self.published()
        first = max(count - self.window, 0)
        lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:3", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
        if r.init is not None:
            lines.append(f'#EXT-X-MAP:URI="{self.url}/init/{r.group}.mp4"')
        for i in range(first, count):
            start = self.start_of(i, r)
            daterange = self._pod_daterange(i, r)
            if daterange is not None:
                lines.append(daterange)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_pdt(start)}")
            title = "Amazon|ad" if i in self.amazon_ads else "live"
            lines.append(f"#EXTINF:{r.durations[i % len(r.durations)]:.3f},{title}")
            lines.append(f"{self.url}/seg/{r.group}/{expiry:.3f}/{i}.{r.ext}")
        if count < self.total:
            lines.append(f"#EXT-X-TWITCH-PREFETCH:{self.url}/prefetch/{r.group}/{count}")
        return web.Response(text="\n".join(lines) + "\n")

    async def _segment(self, request: web.Request) -> web.Response:
        r = self._rendition(request.match_info["rendition"])
        index = int(request.match_info["index"])
        if float(request.match_info["expiry"]) < time.monotonic():
            self.counts["expired_segment"] += 1
            return web.Response(status=403, text="expired")
        if index >= self.published():
            return web.Response(status=404)
        self.counts["ad_fetched" if index in self.amazon_ads | self.daterange_ads else "segment"] += 1
        return web.Response(body=r.bodies[index % len(r.bodies)], content_type="video/mp2t")

    async def _init(self, request: web.Request) -> web.Response:
        self.counts["init"] += 1
        r = self._rendition(request.match_info["rendition"])
        return web.Response(body=r.init or b"", content_type="video/mp4")

    async def _prefetch(self, request: web.Request) -> web.Response:
        self.counts["prefetch"] += 1
        return web.Response(status=404)


def _ms(when: datetime) -> datetime:
    """Truncated to the millisecond, as twitch writes PROGRAM-DATE-TIME."""
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def _pdt(when: datetime) -> str:
    return _ms(when).isoformat(timespec="milliseconds") + "Z"
