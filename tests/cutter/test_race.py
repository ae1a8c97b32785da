"""Many real cutters against one PostgreSQL: every job published exactly once; a dead cutter's job is taken over."""

from __future__ import annotations

import re
import signal

import pytest

from tests.conftest import STORE_START
from tests.cutter.jobs import (
    edit_for,
    ffmpeg_children,
    start_cutter,
    states,
    submit,
    submit_many,
    write_locations,
)
from tests.harness.processes import wait_until

pytestmark = [pytest.mark.ffmpeg, pytest.mark.slow]


def outputs(directory):
    return sorted(directory.glob("*.ts")) if directory.exists() else []


@pytest.mark.timeout(600)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_six_cutters_thirty_events(tmp_path, store, database, db_url, components):
    out = tmp_path / "out"
    locations = write_locations(tmp_path, {"local": {"type": "local", "cut_type": "smart", "path": str(out)}})
    for i in range(6):
        components.append(start_cutter(tmp_path, store, db_url, locations, "--jobs", "3", name=f"c{i}"))
    for cutter in components:
        wait_until(lambda c=cutter: "listening for edited events" in c.log(), 60, message="cutters listening")
    edits = {f"e{i:02d}": edit_for(STORE_START, [(i, i + 4.5)], title=f"ev {i}") for i in range(30)}
    submit_many(database, edits)
    wait_until(lambda: set(states(database).values()) == {"DONE"}, 400, 0.5, "every event DONE")
    for cutter in components:
        assert cutter.stop() == 0, cutter.log()
    files = outputs(out)
    assert len(files) == 30  # published exactly once each
    assert sorted(f.name.split("-")[0] for f in files) == sorted(f"ev_{i}" for i in range(30))
    logs = "".join(c.log() for c in components)
    assert len(re.findall(r"job e\d+ published: ", logs)) == 30
    assert "lost the claim on" in logs  # the cutters did race for the same rows


@pytest.mark.timeout(600)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_killed_cutter_loses_its_lease(tmp_path, store, database, db_url, components):
    out = tmp_path / "out"
    slow = ["-c:v", "libx264", "-preset", "veryslow", "-c:a", "aac"]
    locations = write_locations(
        tmp_path, {"local": {"type": "local", "cut_type": "full", "encode_args": slow, "path": str(out)}}
    )
    submit(database, "long", edit_for(STORE_START, [(1, 55)]))
    first = start_cutter(tmp_path, store, db_url, locations, "--lease", "3", name="doomed")
    components.append(first)
    wait_until(lambda: ffmpeg_children(first.process.pid), 120, 0.05, "the first cutter's ffmpeg")
    assert states(database) == {"long": "CLAIMED"}
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    # The heir serves the same location with a fast encoder, so the test need not wait for veryslow.
    quick = write_locations(
        tmp_path / "heir", {"local": {"type": "local", "cut_type": "full", "path": str(out)}}
    )
    second = start_cutter(tmp_path, store, db_url, quick, "--lease", "3", name="heir")
    components.append(second)
    wait_until(lambda: states(database) == {"long": "DONE"}, 400, 0.2, "the job done by the second cutter")
    assert second.stop() == 0
    assert "claim on long expired" in second.log()
    assert len(outputs(out)) == 1
