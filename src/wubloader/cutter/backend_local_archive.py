"""`local-archive` backend: whole segments (a rough cut, no re-encoding) into a directory per video."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from wubloader.cutter.backend import PublishedVideo, safe_title
from wubloader.cutter.backend_local import LocalBackend, link_for
from wubloader.cutter.errors import UploadError
from wubloader.cutter.local_files import info_json, write_atomic, write_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from wubloader.cutter.backend import VideoMetadata


class LocalArchiveBackend(LocalBackend):
    """Writes `<path>/<unix time>-<safe_title>/<safe_title>.ts` (+ `info.json`); the directory is the id.

    The runner gives this backend rough cuts (whole segments, transitions refused), so an archive
    copy keeps every original frame. Options are the `local` ones.
    """

    async def upload_video(self, video: VideoMetadata, body: AsyncIterator[bytes]) -> PublishedVideo:
        """Stream the body into a fresh directory; a failed or cancelled upload removes it again."""
        title = safe_title(video.title)
        video_id = f"{time.time():.6f}-{title}"
        directory = self.options.path / video_id
        try:
            directory.mkdir()
            await write_stream(directory / f"{title}.ts", body)
            if self.options.write_info:
                await write_atomic(directory / "info.json", info_json(video))
        except BaseException:
            _remove_tree(directory)
            raise
        return PublishedVideo(video_id=video_id, video_link=link_for(self.options, f"{video_id}/"))

    async def update_video(self, video_id: str, video: VideoMetadata) -> None:
        """Rewrite the directory's `info.json`."""
        directory = self.options.path / video_id
        if "/" in video_id or not directory.is_dir():
            raise UploadError(f"no archive directory for video id {video_id!r}", retryable=False)
        if self.options.write_info:
            await write_atomic(directory / "info.json", info_json(video))

    async def set_thumbnail(self, video_id: str, png: bytes) -> None:
        """Write `thumbnail.png` into the video's directory."""
        await write_atomic(self.options.path / video_id / "thumbnail.png", png)


def _remove_tree(directory: Path) -> None:
    """Remove the partial video directory (only files we wrote; no recursion into anything else)."""
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        child.unlink(missing_ok=True)
    directory.rmdir()
