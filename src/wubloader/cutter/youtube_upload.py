"""Google's resumable upload protocol: the body in chunks, resuming from the offset the server confirms.

Facts used: chunks are PUT to the session URL with `Content-Range: bytes A-B/*` (total unknown) or
`bytes A-B/TOTAL` on the last one; the server answers 308 with `Range: bytes=0-N` (bytes it holds)
until the last, then 200/201 with the resource. A status query is a PUT with no body and
`Content-Range: bytes */*` (or `*/TOTAL`): 308 + `Range` (no `Range` = nothing held), or 200/201 if the
upload is already complete. Every chunk but the last is a multiple of 256 KiB.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from wubloader.cutter.errors import UploadAmbiguous, UploadError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

logger = logging.getLogger(__name__)

CHUNK_UNIT = 256 * 1024
CHUNK_TIMEOUT = 300.0
SEND_PIECE = 64 * 1024
_RANGE = re.compile(r"bytes=0-(\d+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumePolicy:
    """How many breaks one upload survives, and the pause before each status query."""

    max_resumes: int = 5
    pause: float = 1.0


async def _slices(data: bytes) -> AsyncIterator[bytes]:
    """The chunk as a stream: aiohttp then never re-sends it by itself after a break (it cannot rewind a
    stream), so every resume goes through the status query and starts where the server says."""
    view = memoryview(data)
    for i in range(0, len(view), SEND_PIECE):
        yield bytes(view[i : i + SEND_PIECE])


class _Broken(Exception):
    """The connection broke mid-chunk (internal: triggers a status query)."""


class ResumableUpload:
    """One upload session: `run(body)` sends everything and returns the created resource's JSON."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        auth: Callable[[], Awaitable[dict[str, str]]],
        *,
        chunk_size: int,
        policy: ResumePolicy,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_UNIT:
            raise ValueError("chunk_size must be a positive multiple of 256 KiB")
        self._session = session
        self._url = url
        self._auth = auth
        self._chunk_size = chunk_size
        self._policy = policy
        self.confirmed = 0  # bytes the server has confirmed holding
        self._chunk_start = 0
        self.resumes = 0

    async def run(self, body: AsyncIterator[bytes]) -> dict[str, Any]:
        """Send `body`; UploadError (4xx, session gone) / UploadAmbiguous (5xx on the last chunk)."""
        buffer = bytearray()
        done = False
        while True:
            while len(buffer) < self._chunk_size and not done:
                try:
                    buffer += await anext(body)
                except StopAsyncIteration:
                    done = True
            total = self.confirmed + len(buffer) if done else None
            size = len(buffer) if done else self._chunk_size
            result = await self._send_resuming(bytes(buffer[:size]), total)
            if result is not None:
                return result
            del buffer[: self._sent_from_buffer(size)]

    def _sent_from_buffer(self, size: int) -> int:
        sent = self.confirmed - self._chunk_start
        if not 0 <= sent <= size:
            raise UploadError(f"server confirmed offset {self.confirmed} outside the chunk", retryable=True)
        return sent

    async def _send_resuming(self, chunk: bytes, total: int | None) -> dict[str, Any] | None:
        """Send `chunk` (starting at `confirmed`), resuming after breaks; the resource when complete."""
        self._chunk_start = self.confirmed
        while True:
            offset = self.confirmed - self._chunk_start
            try:
                return await self._put(chunk[offset:], self.confirmed, total)
            except _Broken as exc:
                if self.resumes >= self._policy.max_resumes:
                    raise UploadError(
                        f"upload broke {self.resumes + 1} times: {exc}", retryable=True
                    ) from exc
                self.resumes += 1
                logger.warning(
                    "upload broke at ~%d bytes (%s); asking the server where to resume",
                    self.confirmed + offset,
                    exc,
                )
                await asyncio.sleep(self._policy.pause)
                result = await self._status(total)
                if result is not None:
                    return result
                if self.confirmed - self._chunk_start >= len(chunk) and total is None:
                    return None

    async def _put(self, data: bytes, start: int, total: int | None) -> dict[str, Any] | None:
        end = start + len(data) - 1
        content_range = f"bytes {start}-{end}/{total if total is not None else '*'}"
        if not data:
            content_range = f"bytes */{total}"
        headers = {**(await self._auth()), "Content-Range": content_range, "Content-Length": str(len(data))}
        try:
            async with asyncio.timeout(CHUNK_TIMEOUT):
                async with self._session.put(
                    self._url, data=_slices(data), headers=headers, allow_redirects=False
                ) as response:
                    payload = await response.read()
                    return self._answer(response, payload, final=total is not None)
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
            raise _Broken(str(exc) or type(exc).__name__) from exc

    async def _status(self, total: int | None) -> dict[str, Any] | None:
        headers = {**(await self._auth()), "Content-Range": f"bytes */{total if total is not None else '*'}"}
        try:
            async with asyncio.timeout(60.0):
                async with self._session.put(self._url, headers=headers, allow_redirects=False) as response:
                    payload = await response.read()
                    return self._answer(response, payload, final=False)
        except (aiohttp.ClientError, TimeoutError, _Broken) as exc:
            if total is not None:
                # The whole body may have arrived before the break: only an operator can tell.
                raise UploadAmbiguous(f"status query after the last byte failed: {exc}") from exc
            raise UploadError(f"status query failed: {exc}", retryable=True) from exc

    def _answer(
        self, response: aiohttp.ClientResponse, payload: bytes, *, final: bool
    ) -> dict[str, Any] | None:
        """None after a 308 (updating `confirmed`), the resource after 200/201; errors raised."""
        status = response.status
        if status == 308:
            match = _RANGE.match(response.headers.get("Range", ""))
            self.confirmed = int(match.group(1)) + 1 if match else 0
            return None
        if status in (200, 201):
            result: dict[str, Any] = json.loads(payload)
            return result
        detail = f"upload answered {status}: {payload[:300].decode(errors='replace')}"
        if status in (404, 410):
            raise UploadError(f"{detail} (the upload session expired)", retryable=True)
        if 400 <= status < 500:
            raise UploadError(detail, retryable=False)
        if final:
            raise UploadAmbiguous(detail)
        raise _Broken(detail)
