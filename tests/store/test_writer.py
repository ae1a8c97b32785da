"""Atomic hashed writes: commit, abort, hash verification and crash safety with a real SIGKILL."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest

from wubloader.store import (
    STALE_TEMP_AGE,
    HashMismatch,
    SegmentType,
    SegmentWriter,
    TempSweeper,
    hash_bytes,
    remove_stale_temp_files,
)
from wubloader.store.naming import parse_segment_path

START = datetime(2024, 5, 1, 10, 7, 3, 250000)


def test_commit_names_file_by_its_hash(tmp_path):
    with SegmentWriter(tmp_path, "chan", "source", START, "2.0") as writer:
        writer.write(b"hello ")
        writer.write(b"world")
        final = writer.commit()
    assert final.read_bytes() == b"hello world"
    seg = parse_segment_path(final)
    assert seg.hash == hash_bytes(b"hello world")
    assert seg.start == START and seg.type is SegmentType.FULL
    assert os.listdir(final.parent) == [final.name]


def test_views_of_a_reused_buffer_are_written_as_they_were_at_the_call(tmp_path):
    buffer = memoryview(bytearray(300_000))
    parts = [os.urandom(300_000), os.urandom(5), os.urandom(200_000)]
    with SegmentWriter(tmp_path, "chan", "source", START, "2.0") as writer:
        writer.write(b"head")  # still in the file object's buffer when the big view arrives
        for part in parts:
            buffer[: len(part)] = part
            writer.write(buffer[: len(part)])
            buffer[:] = bytes(len(buffer))  # the next receive overwrites the buffer
        writer.write(buffer[:0])
        writer.write(b"tail")
        final = writer.commit()
    expected = b"head" + b"".join(parts) + b"tail"
    assert final.read_bytes() == expected
    assert writer.size == len(expected)
    assert parse_segment_path(final).hash == hash_bytes(expected)


def test_leaving_without_commit_removes_temp(tmp_path):
    with pytest.raises(RuntimeError), SegmentWriter(tmp_path, "chan", "source", START, "2.0") as writer:
        writer.write(b"half")
        raise RuntimeError("download failed")
    assert os.listdir(writer.hour_dir) == []


def test_partial_commit(tmp_path):
    with SegmentWriter(tmp_path, "chan", "source", START, "2.0") as writer:
        writer.write(b"half")
        final = writer.commit(SegmentType.PARTIAL)
    assert parse_segment_path(final).type is SegmentType.PARTIAL


def test_hash_mismatch_keeps_nothing(tmp_path):
    with SegmentWriter(tmp_path, "chan", "source", START, "2.0") as writer:
        writer.write(b"corrupted")
        with pytest.raises(HashMismatch):
            writer.commit(expected_hash=hash_bytes(b"original"))
    assert os.listdir(writer.hour_dir) == []


CRASHING_WRITER = """
import sys, datetime, pathlib
from wubloader.store import SegmentWriter
w = SegmentWriter(pathlib.Path(sys.argv[1]), "chan", "source", datetime.datetime(2024, 5, 1, 10), "2.0")
w.write(b"x" * 100000)
print("writing", flush=True)
sys.stdin.read()  # blocks until the test kills us mid-write
"""


def test_sigkill_mid_write_leaves_no_final_file_and_temp_is_cleaned(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHING_WRITER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    hour_dir = tmp_path / "chan" / "source" / "2024-05-01T10"
    names = os.listdir(hour_dir)
    assert len(names) == 1 and "-temp-" in names[0]  # only the temp, never a final name
    # too young for the shared policy: it may be another writer's
    assert remove_stale_temp_files(tmp_path, min_age_seconds=STALE_TEMP_AGE) == 0
    assert remove_stale_temp_files(tmp_path) == 1
    assert os.listdir(hour_dir) == []


def test_abort_on_a_full_disk_still_removes_the_temp(tmp_path):
    writer = SegmentWriter(tmp_path, "chan", "source", START, "2.0")
    writer.write(b"x" * 1000)  # still in the file object's buffer
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, writer._file.fileno())  # the flush on close now fails with ENOSPC
    finally:
        os.close(full)
    writer.abort()
    assert os.listdir(writer.hour_dir) == []


def leftover(base, start, age):
    """A temp file as a killed writer leaves it, last written `age` seconds ago."""
    path = SegmentWriter(base, "chan", "source", start, "2.0").temp_path
    past = time.time() - age
    os.utime(path, (past, past))
    return path


async def test_sweeper_removes_leftovers_while_running_not_only_at_start(tmp_path):
    stop = asyncio.Event()
    sweeper = TempSweeper(tmp_path, max_age=STALE_TEMP_AGE, interval=0.05)
    task = asyncio.create_task(sweeper.run(stop))
    try:
        young = leftover(tmp_path, START, 10)
        old = leftover(tmp_path, START.replace(minute=8), STALE_TEMP_AGE + 10)  # appears after the start
        async with asyncio.timeout(30):
            while old.exists():
                await asyncio.sleep(0.02)
        assert young.exists()
    finally:
        stop.set()
        await task
