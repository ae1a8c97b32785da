"""The YouTube backend against the fake: upload, resume after a break, ambiguity, status, updates."""

from __future__ import annotations

import os

import pytest

from tests.fakes_youtube import CREDENTIALS, FakeYouTube
from wubloader.cutter.backend import VideoMetadata
from wubloader.cutter.backend_youtube import YouTubeBackend, YouTubeOptions
from wubloader.cutter.errors import LocationsError, UploadAmbiguous, UploadError
from wubloader.cutter.youtube_auth import GoogleCredentials
from wubloader.cutter.youtube_upload import CHUNK_UNIT

VIDEO = VideoMetadata(title="A title", description="desc", tags=("a", "b"), public=False)
DATA = os.urandom(5 * CHUNK_UNIT + 12345)


@pytest.fixture
def fake():
    server = FakeYouTube().start()
    yield server
    server.stop()


def backend_for(fake: FakeYouTube, **extra) -> YouTubeBackend:
    options = YouTubeOptions.from_json(
        {k: v for k, v in fake.location_options(**extra).items() if k != "type"}, "t"
    )
    return YouTubeBackend(options, GoogleCredentials(**CREDENTIALS))


async def body(data: bytes = DATA, piece: int = 100_000):
    for i in range(0, len(data), piece):
        yield data[i : i + piece]


async def test_upload_in_chunks_and_metadata(fake):
    backend = backend_for(fake, chunk_size=2 * CHUNK_UNIT)
    try:
        video = await backend.upload_video(VIDEO, body())
    finally:
        await backend.aclose()
    held = fake.videos[video.video_id]
    assert held.data == DATA
    assert video.video_link == f"https://youtu.be/{video.video_id}"
    assert held.snippet["title"] == "A title" and held.snippet["tags"] == ["a", "b"]
    assert held.snippet["categoryId"] == "23" and held.status["privacyStatus"] == "unlisted"
    assert fake.chunk_puts == 3 and fake.token_requests == 1


async def test_break_at_60_percent_resumes_from_confirmed_offset(fake):
    fake.break_at = int(len(DATA) * 0.6)
    backend = backend_for(fake, chunk_size=8 * CHUNK_UNIT)
    try:
        video = await backend.upload_video(VIDEO, body())
    finally:
        await backend.aclose()
    assert fake.broke and fake.status_queries >= 1
    assert fake.videos[video.video_id].data == DATA
    assert len(fake.videos) == 1


async def test_5xx_after_the_complete_body_is_ambiguous(fake):
    fake.fail_after_body = 503
    backend = backend_for(fake)
    try:
        with pytest.raises(UploadAmbiguous):
            await backend.upload_video(VIDEO, body())
    finally:
        await backend.aclose()
    assert len(fake.videos) == 1  # the fake did take it: only an operator can know


async def test_public_video_refused_by_unlisted_only(fake):
    backend = backend_for(fake, unlisted_only=True)
    try:
        with pytest.raises(UploadError) as info:
            await backend.upload_video(VideoMetadata(title="t", description="", tags=(), public=True), body())
    finally:
        await backend.aclose()
    assert not info.value.retryable and fake.sessions == {}


async def test_status_update_and_thumbnail(fake):
    fake.process_immediately = False
    backend = backend_for(fake)
    try:
        video = await backend.upload_video(VIDEO, body())
        assert await backend.check_status([video.video_id]) == set()
        fake.mark_processed(video.video_id)
        assert await backend.check_status([video.video_id, "missing"]) == {video.video_id}
        await backend.update_video(video.video_id, VIDEO)
        assert fake.updates == 0  # nothing changed: no PUT
        await backend.update_video(
            video.video_id, VideoMetadata(title="New", description="d", tags=("x",), public=True)
        )
        await backend.set_thumbnail(video.video_id, b"\x89PNG fake")
    finally:
        await backend.aclose()
    held = fake.videos[video.video_id]
    assert fake.updates == 1 and held.snippet["title"] == "New" and held.snippet["tags"] == ["x"]
    assert held.status["privacyStatus"] == "public" and held.thumbnails == [b"\x89PNG fake"]


async def test_bad_refresh_token_is_retryable(fake):
    options = YouTubeOptions.from_json({"api_base_url": fake.url, "token_url": f"{fake.url}/token"}, "t")
    backend = YouTubeBackend(
        options, GoogleCredentials(client_id="cid", client_secret="no", refresh_token="x")
    )
    try:
        with pytest.raises(UploadError) as info:
            await backend.upload_video(VIDEO, body())
    finally:
        await backend.aclose()
    assert info.value.retryable and fake.sessions == {}


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"colour": 1}, "unknown key 'colour'"),
        ({"chunk_size": 1000}, "multiple of"),
        ({"unlisted_only": "yes"}, "true/false"),
    ],
)
def test_options_rejected(raw, message):
    with pytest.raises(LocationsError, match=message):
        YouTubeOptions.from_json(raw, "loc")
