"""`youtube` backend: resumable upload, status for the TranscodeChecker, metadata updates, thumbnails."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from wubloader.cutter.backend import PublishedVideo
from wubloader.cutter.errors import LocationsError, UploadError
from wubloader.cutter.json_fields import check_keys, field
from wubloader.cutter.youtube_auth import AccessTokens
from wubloader.cutter.youtube_upload import CHUNK_UNIT, ResumableUpload, ResumePolicy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection, Mapping

    from wubloader.cutter.backend import VideoMetadata
    from wubloader.cutter.youtube_auth import GoogleCredentials

OPTION_KEYS = {
    "category_id",
    "language",
    "mime_type",
    "unlisted_only",
    "api_base_url",
    "token_url",
    "chunk_size",
    "max_resumes",
}
API_TIMEOUT = 30.0
STATUS_BATCH = 10  # videos.list takes up to this many ids per call (original practice)
MAX_TAGS_LENGTH = 500  # YouTube's limit on all tags together


@dataclass(frozen=True, slots=True, kw_only=True)
class YouTubeOptions:
    """Backend keys of a `youtube` location; the base URLs exist so tests can point at a local fake."""

    category_id: str | None = "23"
    language: str | None = "en"
    mime_type: str = "video/MP2T"
    unlisted_only: bool = False
    api_base_url: str = "https://www.googleapis.com"
    token_url: str = "https://oauth2.googleapis.com/token"
    chunk_size: int = 32 * CHUNK_UNIT
    max_resumes: int = 5

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], where: str) -> YouTubeOptions:
        """Parse the location's backend keys; LocationsError on unknown keys or wrong types."""
        check_keys(raw, OPTION_KEYS, where)
        default = cls()
        chunk = field(raw, "chunk_size", int, where, default.chunk_size) or 0
        if chunk <= 0 or chunk % CHUNK_UNIT:
            raise LocationsError(f"{where}: 'chunk_size' must be a positive multiple of {CHUNK_UNIT}")
        category = raw.get("category_id", default.category_id)
        if category is not None and not isinstance(category, str | int):
            raise LocationsError(f"{where}: 'category_id' must be a string, an integer or null")
        return cls(
            category_id=None if category is None else str(category),
            language=field(raw, "language", str, where) if "language" in raw else default.language,
            mime_type=field(raw, "mime_type", str, where, default.mime_type) or default.mime_type,
            unlisted_only=field(raw, "unlisted_only", bool, where, False) is True,
            api_base_url=(field(raw, "api_base_url", str, where) or default.api_base_url).rstrip("/"),
            token_url=field(raw, "token_url", str, where) or default.token_url,
            chunk_size=chunk,
            max_resumes=field(raw, "max_resumes", int, where, default.max_resumes) or 0,
        )


class YouTubeBackend:
    """Publishes to YouTube; videos then need processing (`needs_transcode`), checked via videos.list."""

    needs_transcode = True

    def __init__(self, options: YouTubeOptions, credentials: GoogleCredentials) -> None:
        self.options = options
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None), trust_env=False)
        self._tokens = AccessTokens(self._session, credentials, options.token_url)

    def _snippet(self, video: VideoMetadata) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "title": video.title,
            "description": video.description,
            "tags": list(video.tags),
        }
        if self.options.category_id is not None:
            snippet["categoryId"] = self.options.category_id
        if self.options.language is not None:
            snippet["defaultLanguage"] = self.options.language
            snippet["defaultAudioLanguage"] = self.options.language
        return snippet

    def _check(self, video: VideoMetadata) -> None:
        if self.options.unlisted_only and video.public:
            raise UploadError("this location only accepts unlisted videos", retryable=False)
        if sum(len(tag) for tag in video.tags) > MAX_TAGS_LENGTH:
            raise UploadError(f"tags are longer than {MAX_TAGS_LENGTH} characters in total", retryable=False)

    async def upload_video(self, video: VideoMetadata, body: AsyncIterator[bytes]) -> PublishedVideo:
        """Open a resumable session, then send the body in chunks, resuming after breaks."""
        self._check(video)
        metadata = {
            "snippet": self._snippet(video),
            "status": {"privacyStatus": "public" if video.public else "unlisted"},
        }
        url = f"{self.options.api_base_url}/upload/youtube/v3/videos"
        params = {"part": "snippet,status", "uploadType": "resumable"}
        headers = {**(await self._tokens.header()), "X-Upload-Content-Type": self.options.mime_type}
        async with self._call("create_video", retryable=True):
            async with self._session.post(url, params=params, json=metadata, headers=headers) as response:
                answer = await response.read()
                if response.status != 200 or "Location" not in response.headers:
                    raise UploadError(
                        f"creating the upload answered {response.status}: {answer[:300]!r}", retryable=False
                    )
                session_url = response.headers["Location"]
        policy = ResumePolicy(max_resumes=self.options.max_resumes)
        upload = ResumableUpload(
            self._session, session_url, self._tokens.header, chunk_size=self.options.chunk_size, policy=policy
        )
        resource = await upload.run(body)
        video_id = str(resource["id"])
        return PublishedVideo(video_id=video_id, video_link=f"https://youtu.be/{video_id}")

    async def _json(self, method: str, path: str, *, params: Mapping[str, str], body: Any = None) -> Any:
        headers = await self._tokens.header()
        url = f"{self.options.api_base_url}{path}"
        async with self._call(path, retryable=True):
            async with self._session.request(method, url, params=params, json=body, headers=headers) as resp:
                answer = await resp.read()
                if resp.status == 409:
                    raise UploadError(f"{path} conflict (409): {answer[:300]!r}", retryable=True)
                if resp.status != 200:
                    raise UploadError(f"{path} answered {resp.status}: {answer[:300]!r}", retryable=False)
                return json.loads(answer)

    async def check_status(self, video_ids: Collection[str]) -> set[str]:
        """Ids whose `status.uploadStatus` is `processed` (asked 10 at a time)."""
        ids = list(video_ids)
        done: set[str] = set()
        for i in range(0, len(ids), STATUS_BATCH):
            params = {"part": "id,status", "id": ",".join(ids[i : i + STATUS_BATCH])}
            answer = await self._json("GET", "/youtube/v3/videos", params=params)
            for item in answer.get("items", []):
                if item.get("status", {}).get("uploadStatus") == "processed":
                    done.add(str(item["id"]))
        return done

    async def update_video(self, video_id: str, video: VideoMetadata) -> None:
        """Fetch the video, overwrite title/description/tags/privacy, PUT it back only if it changed."""
        self._check(video)
        params = {"part": "id,snippet,status", "id": video_id}
        items = (await self._json("GET", "/youtube/v3/videos", params=params)).get("items", [])
        if not items:
            raise UploadError(f"video {video_id} does not exist", retryable=False)
        old = items[0]
        snippet: dict[str, Any] = {
            **old.get("snippet", {}),
            "title": video.title,
            "description": video.description,
            "tags": list(video.tags),
        }
        status: dict[str, Any] = {
            **old.get("status", {}),
            "privacyStatus": "public" if video.public else "unlisted",
        }
        if snippet == old.get("snippet") and status == old.get("status"):
            return
        new = {"id": video_id, "snippet": snippet, "status": status}
        await self._json("PUT", "/youtube/v3/videos", params={"part": "id,snippet,status"}, body=new)

    async def set_thumbnail(self, video_id: str, png: bytes) -> None:
        """POST the PNG to thumbnails.set."""
        headers = {**(await self._tokens.header()), "Content-Type": "image/png"}
        url = f"{self.options.api_base_url}/upload/youtube/v3/thumbnails/set"
        async with self._call("set_thumbnail", retryable=True):
            async with self._session.post(url, params={"videoId": video_id}, data=png, headers=headers) as r:
                if r.status != 200:
                    raise UploadError(
                        f"thumbnails.set answered {r.status}: {(await r.read())[:300]!r}",
                        retryable=r.status >= 500,
                    )

    def _call(self, what: str, *, retryable: bool) -> _ApiCall:
        return _ApiCall(what, retryable=retryable)

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self._session.close()


class _ApiCall:
    """Deadline for one API call; network failures become UploadError (nothing was published by it)."""

    def __init__(self, what: str, *, retryable: bool) -> None:
        self._what = what
        self._retryable = retryable
        self._timeout = asyncio.timeout(API_TIMEOUT)

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        try:
            await self._timeout.__aexit__(exc_type, exc, tb)  # type: ignore[arg-type]
        except TimeoutError as timeout:
            raise UploadError(f"{self._what} timed out", retryable=True) from timeout
        if isinstance(exc, aiohttp.ClientError):
            raise UploadError(f"{self._what} failed: {exc}", retryable=self._retryable) from exc
