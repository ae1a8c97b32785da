"""Atomic file writes for the local backends: a streamed body into a hidden part file, then a rename."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import TYPE_CHECKING

from wubloader.cutter.errors import UploadError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from wubloader.cutter.backend import VideoMetadata


def _write_all(file_path: Path, data: bytes) -> None:
    part = file_path.with_name(f".{file_path.name}.part")
    with part.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    part.rename(file_path)


async def write_atomic(file_path: Path, data: bytes) -> None:
    """Write `data` as `file_path` (temp + fsync + rename); OSError becomes a retryable UploadError."""
    try:
        await asyncio.to_thread(_write_all, file_path, data)
    except OSError as exc:
        raise UploadError(f"cannot write {file_path.name}: {exc}", retryable=True) from exc


async def write_stream(file_path: Path, body: AsyncIterator[bytes]) -> int:
    """Stream `body` into `file_path` atomically; returns the size.

    Until the rename nothing is visible under the final name: if `body` fails, or the caller is
    cancelled, the part file is removed. OSError becomes a retryable UploadError.
    """
    part = file_path.with_name(f".{file_path.name}.part")
    size = 0
    try:
        file = await asyncio.to_thread(part.open, "wb")
        try:
            async for chunk in body:
                await asyncio.to_thread(file.write, chunk)
                size += len(chunk)
            await asyncio.to_thread(file.flush)
            await asyncio.to_thread(os.fsync, file.fileno())
        finally:
            file.close()
        await asyncio.to_thread(part.rename, file_path)
    except OSError as exc:
        raise UploadError(f"cannot write {file_path.name}: {exc}", retryable=True) from exc
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
    return size


def info_json(video: VideoMetadata) -> bytes:
    """The metadata file's content: title, description, tags, public (the original's format)."""
    info = {
        "title": video.title,
        "description": video.description,
        "tags": list(video.tags),
        "public": video.public,
    }
    return (json.dumps(info) + "\n").encode()


def ensure_dir(path: Path) -> None:
    """Create the backend's directory at start-up; a file in the way is a configuration error."""
    path.mkdir(parents=True, exist_ok=True)
