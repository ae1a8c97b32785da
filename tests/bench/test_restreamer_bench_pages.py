"""The restreamer bench times its rough cut on files with pages of their own, as an archive's are."""

import os

from bench.restreamer_bench import give_own_pages


def test_give_own_pages_unlinks_each_file_from_its_siblings(tmp_path):
    blob = tmp_path / "a.ts"
    blob.write_bytes(b"segment bytes" * 1000)
    links = [tmp_path / f"{n}.ts" for n in "bcd"]
    for link in links:
        os.link(blob, link)
    assert blob.stat().st_nlink == 4

    give_own_pages([str(path) for path in [blob, *links]])

    inodes = {path.stat().st_ino for path in [blob, *links]}
    assert len(inodes) == 4
    for path in [blob, *links]:
        assert path.stat().st_nlink == 1
        assert path.read_bytes() == b"segment bytes" * 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ts", "b.ts", "c.ts", "d.ts"]
