"""End to end: the real `wubloader backfiller --once` process against hostile peers on 127.0.0.1."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tests.backfiller.peer_server import PeerServer
from tests.backfiller.snapshots import all_files, temp_files, visible
from tests.backfiller.test_e2e import backfill_args
from tests.backfiller.test_hostile_peers import HASH, HOUR, endless
from tests.conftest import STORE_START
from tests.harness.store_builder import build_store

pytestmark = pytest.mark.slow


async def run_once(base: Path, *servers: PeerServer, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    """Run the command to its end; returns (exit code, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *backfill_args(base, *servers, extra=("--once", *extra)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(120):
            _, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_a_bad_name_from_one_peer_does_not_stop_copying_from_another(tmp_path, peers):
    bad_base, good_base, local = tmp_path / "bad", tmp_path / "good", tmp_path / "local"
    build_store(bad_base, STORE_START, 2)
    build_store(good_base, STORE_START + timedelta(hours=1), 3)
    bad, good = await peers(bad_base), await peers(good_base)
    bad.extra_names[HOUR] = [
        f"00:10.000000-1e308-full-{HASH}.ts",
        "00:18.000000-2.0-full-" + "C" * 300 + ".tombstone",
    ]
    code, err = await run_once(local, bad, good)
    assert code == 0, err[-3000:]
    assert visible(local) == {**visible(bad_base), **visible(good_base)} and len(visible(local)) == 5
    assert "Traceback" not in err


async def test_an_unreadable_local_hour_fails_the_pass_but_not_the_others(tmp_path, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    build_store(remote, STORE_START, 2)
    build_store(remote, STORE_START + timedelta(hours=1), 2)
    loop = local / HOUR
    loop.parent.mkdir(parents=True)
    loop.symlink_to(loop.name)
    code, err = await run_once(local, await peers(remote))
    assert code == 1 and "Traceback" not in err
    assert len(visible(local)) == 2 and "cannot read" in err


async def test_an_endless_body_never_fills_the_disk(tmp_path, peers):
    remote, local = tmp_path / "remote", tmp_path / "local"
    paths = build_store(remote, STORE_START, 3)
    server = await peers(remote)
    server.bodies[paths[1].name] = endless
    code, err = await run_once(local, server, extra=("--max-bitrate", "4"))  # 2 s: 2 MiB + 1 MB at most
    assert code == 1 and temp_files(local) == []
    assert len(visible(local)) == 2 and server.segment_requests(paths[1].name) == 1
    assert "not refetching" in err


async def test_once_fails_when_every_copy_fails_verification(tmp_path, peers):
    one, two, local = tmp_path / "one", tmp_path / "two", tmp_path / "local"
    paths = [build_store(base, STORE_START, 3)[1] for base in (one, two)]
    for path in paths:
        path.write_bytes(b"not what the name promises")
    code, err = await run_once(local, await peers(one), await peers(two))
    assert code == 1, err[-3000:]
    assert len(visible(local)) == 2 and not any(f.endswith(paths[0].name) for f in all_files(local))


async def test_a_base_dir_that_is_a_file_is_a_configuration_error(tmp_path, peers):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    code, err = await run_once(not_a_dir, await peers(tmp_path))
    assert code == 2 and "not a directory" in err and "Traceback" not in err
    assert not_a_dir.read_text() == "x"
