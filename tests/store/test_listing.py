"""Listings honour hidden names and tombstones."""

import pytest

from wubloader.store import (
    create_tombstone,
    is_tombstoned,
    list_channels,
    list_hours,
    list_qualities,
    list_segment_files,
)
from wubloader.store.listing import split_hour_entries

A = "00:00.000000-2.0-full-AAAA.ts"
B = "00:02.000000-2.0-full-BBBB.ts"


def test_listings(tmp_path):
    hour = tmp_path / "chan" / "src" / "2024-01-01T00"
    hour.mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "chan" / ".hiddenq").mkdir()
    (tmp_path / "chan" / "src" / "not-an-hour").mkdir()
    for name in (A, B, ".00:04.000000-2.0-full-CCCC.ts", "notes.txt"):
        (hour / name).write_bytes(b"x")
    assert list_channels(tmp_path) == ["chan"]
    assert list_qualities(tmp_path, "chan") == ["src"]
    assert list_qualities(tmp_path, "nochan") == []
    assert list_hours(tmp_path, "chan", "src") == ["2024-01-01T00"]
    assert list_segment_files(hour) == [A, B]
    assert list_segment_files(tmp_path / "missing") == []


def test_tombstone_hides_segment_and_is_listed_on_request(tmp_path):
    hour = tmp_path / "c" / "q" / "2024-01-01T00"
    hour.mkdir(parents=True)
    (hour / A).write_bytes(b"x")
    (hour / B).write_bytes(b"y")
    tomb = create_tombstone(hour / A)
    assert tomb.name == "00:00.000000-2.0-full-AAAA.tombstone"
    assert tomb.stat().st_size == 0
    assert is_tombstoned(hour / A)
    assert list_segment_files(hour) == [B]
    assert list_segment_files(hour, include_tombstones=True) == [B, tomb.name]


def test_tombstone_in_missing_hour_creates_directory(tmp_path):
    seg = tmp_path / "c" / "q" / "2024-01-01T05" / A
    create_tombstone(seg)
    assert list_segment_files(seg.parent, include_tombstones=True) == [tomb_name(A)]


def tomb_name(name):
    return name[: -len(".ts")] + ".tombstone"


@pytest.mark.parametrize(
    "names",
    [
        [B, A],
        [A, ".hidden.ts"],
        [".x.ts", A],
        [A, "notes.txt"],
        [A, "a.ts\nb.ts"],  # a newline inside a name: joined, it would look like two names
        ["a.ts\n.ts", "c"],
        [A, "00:00.000000-2.0-full-AAAA.tombstone"],
        [A, "x.tombstone", ".y.tombstone"],
        ["x.ts.tombstone.ts", A],
        [],
    ],
)
def test_split_hour_entries_is_the_name_by_name_rule(names):
    """The joined-names shortcut for the usual hour agrees with the definition on every odd name."""
    tombstones = {n for n in names if n.endswith(".tombstone") and not n.startswith(".")}
    visible = [
        n
        for n in names
        if n.endswith(".ts") and not n.startswith(".") and n[: -len(".ts")] + ".tombstone" not in tombstones
    ]
    assert split_hour_entries(names) == (sorted(visible), sorted(tombstones))
