"""`local` backend: the video as a file plus a JSON of its metadata in a directory, linked by URL prefix."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wubloader.cutter.backend import PublishedVideo, safe_title
from wubloader.cutter.errors import UploadError
from wubloader.cutter.json_fields import check_keys, field, required
from wubloader.cutter.local_files import ensure_dir, info_json, write_atomic, write_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection, Mapping

    from wubloader.cutter.backend import VideoMetadata

OPTION_KEYS = {"path", "url_prefix", "write_info"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalOptions:
    """`path` (created if missing), `url_prefix` (links: prefix + file name, else file://), `write_info`."""

    path: Path
    url_prefix: str | None = None
    write_info: bool = True

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], where: str) -> LocalOptions:
        """Parse the location's backend keys; LocationsError on unknown keys or wrong types."""
        check_keys(raw, OPTION_KEYS, where)
        return cls(
            path=Path(required(raw, "path", str, where)),
            url_prefix=field(raw, "url_prefix", str, where),
            write_info=field(raw, "write_info", bool, where, True) is True,
        )


def link_for(options: LocalOptions, name: str) -> str:
    """`url_prefix + name`, or an absolute file:// URL of the published path."""
    if options.url_prefix is not None:
        return options.url_prefix + name
    return (options.path / name).absolute().as_uri()


class LocalBackend:
    """Writes `<path>/<safe_title>-<uuid>.ts` (+ `.json`); the uuid is the video id. No transcoding."""

    needs_transcode = False

    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        ensure_dir(options.path)

    async def upload_video(self, video: VideoMetadata, body: AsyncIterator[bytes]) -> PublishedVideo:
        """Stream `body` into the file; nothing appears under the final name unless it completes."""
        video_id = uuid.uuid4().hex
        stem = f"{safe_title(video.title)}-{video_id}"
        await write_stream(self.options.path / f"{stem}.ts", body)
        if self.options.write_info:
            await write_atomic(self.options.path / f"{stem}.json", info_json(video))
        return PublishedVideo(video_id=video_id, video_link=link_for(self.options, f"{stem}.ts"))

    async def check_status(self, video_ids: Collection[str]) -> set[str]:
        """Local files need no processing: every id is finished."""
        return set(video_ids)

    async def update_video(self, video_id: str, video: VideoMetadata) -> None:
        """Rewrite the JSON next to the video file found by its id (the title may have changed)."""
        matches = await asyncio.to_thread(lambda: list(self.options.path.glob(f"*-{video_id}.ts")))
        if not matches:
            raise UploadError(f"no published file for video id {video_id!r}", retryable=False)
        if self.options.write_info:
            await write_atomic(matches[0].with_suffix(".json"), info_json(video))

    async def set_thumbnail(self, video_id: str, png: bytes) -> None:
        """Write `<path>/<video_id>.png` atomically."""
        await write_atomic(self.options.path / f"{video_id}.png", png)

    async def aclose(self) -> None:
        """Nothing to release."""
