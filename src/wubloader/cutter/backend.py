"""The upload-backend plug-in point: what the job runner hands a backend and what it gets back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoMetadata:
    """What a published video is called and who may see it (`public` False = unlisted)."""

    title: str
    description: str
    tags: tuple[str, ...]
    public: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedVideo:
    """The backend's id (for status checks and updates) and the link shown to editors."""

    video_id: str
    video_link: str


class UploadBackend(Protocol):
    """One upload location's backend (`local`, `local-archive`, `youtube`).

    Every method raises `UploadError` only when it knows nothing was published; any other exception
    from `upload_video` after the body's last byte leaves the outcome open (the runner then keeps
    the job in FINALIZING for an operator).
    """

    needs_transcode: bool

    async def upload_video(self, video: VideoMetadata, body: AsyncIterator[bytes]) -> PublishedVideo:
        """Consume `body` completely and publish it; abandoning `body` early publishes nothing."""

    async def check_status(self, video_ids: Collection[str]) -> set[str]:
        """The subset of `video_ids` that finished processing (backends without transcoding: all)."""

    async def update_video(self, video_id: str, video: VideoMetadata) -> None:
        """Replace the metadata of a published video."""

    async def set_thumbnail(self, video_id: str, png: bytes) -> None:
        """Set (replace) the video's thumbnail."""

    async def aclose(self) -> None:
        """Release connections."""


_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def safe_title(title: str) -> str:
    """The title as a filename part: every character outside `[A-Za-z0-9_]` becomes `_`."""
    return _UNSAFE.sub("_", title)[:100] or "_"


def merge_tags(static: Collection[str], row: Collection[str]) -> tuple[str, ...]:
    """`--tags` then the row's tags, duplicates dropped, order kept (the original used an unordered set)."""
    return tuple(dict.fromkeys([*static, *row]))
