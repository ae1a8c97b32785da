"""local and local-archive backends: atomic files, metadata JSON, links, nothing left by a failure."""

from __future__ import annotations

import json

import pytest

from wubloader.cutter.backend import VideoMetadata, merge_tags, safe_title
from wubloader.cutter.backend_local import LocalBackend, LocalOptions
from wubloader.cutter.backend_local_archive import LocalArchiveBackend
from wubloader.cutter.errors import LocationsError

VIDEO = VideoMetadata(title="Hi there/ü", description="d", tags=("t",), public=True)


async def chunks(*parts: bytes, fail: bool = False):
    for part in parts:
        yield part
    if fail:
        raise RuntimeError("cut failed")


async def test_local_writes_file_and_info(tmp_path):
    backend = LocalBackend(LocalOptions(path=tmp_path / "out", url_prefix="http://x/"))
    video = await backend.upload_video(VIDEO, chunks(b"ab", b"cd"))
    stem = f"Hi_there__-{video.video_id}"
    assert (tmp_path / "out" / f"{stem}.ts").read_bytes() == b"abcd"
    info = json.loads((tmp_path / "out" / f"{stem}.json").read_text())
    assert info == {"title": "Hi there/ü", "description": "d", "tags": ["t"], "public": True}
    assert video.video_link == f"http://x/{stem}.ts"
    renamed = VideoMetadata(title="Other", description="e", tags=(), public=False)
    await backend.update_video(video.video_id, renamed)
    assert json.loads((tmp_path / "out" / f"{stem}.json").read_text())["title"] == "Other"
    await backend.set_thumbnail(video.video_id, b"png")
    assert (tmp_path / "out" / f"{video.video_id}.png").read_bytes() == b"png"
    assert await backend.check_status(["a"]) == {"a"}


async def test_local_failed_body_leaves_nothing(tmp_path):
    backend = LocalBackend(LocalOptions(path=tmp_path))
    with pytest.raises(RuntimeError):
        await backend.upload_video(VIDEO, chunks(b"ab", fail=True))
    assert list(tmp_path.iterdir()) == []


async def test_local_link_without_prefix_is_absolute(tmp_path):
    backend = LocalBackend(LocalOptions(path=tmp_path, write_info=False))
    video = await backend.upload_video(VIDEO, chunks(b"x"))
    assert video.video_link.startswith("file:///") and video.video_link.endswith(".ts")
    assert len(list(tmp_path.iterdir())) == 1


async def test_archive_directory_per_video(tmp_path):
    backend = LocalArchiveBackend(LocalOptions(path=tmp_path))
    video = await backend.upload_video(VIDEO, chunks(b"seg1", b"seg2"))
    directory = tmp_path / video.video_id
    assert (directory / "Hi_there__.ts").read_bytes() == b"seg1seg2"
    assert json.loads((directory / "info.json").read_text())["tags"] == ["t"]
    assert video.video_link == directory.absolute().as_uri()
    with pytest.raises(RuntimeError):
        await backend.upload_video(VIDEO, chunks(b"x", fail=True))
    assert [p.name for p in tmp_path.iterdir()] == [video.video_id]


def test_options_strict():
    with pytest.raises(LocationsError, match="'path' is required"):
        LocalOptions.from_json({}, "loc")
    with pytest.raises(LocationsError, match="unknown key 'pth'"):
        LocalOptions.from_json({"path": "/x", "pth": 1}, "loc")


def test_names_and_tags():
    assert safe_title("a b-c.d") == "a_b_c_d"
    assert merge_tags(("x", "y"), ("y", "z", "x")) == ("x", "y", "z")
