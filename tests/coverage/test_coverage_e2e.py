"""`wubloader coverage`: the map's pixels equal an independently computed map; the page shows every node."""

import urllib.error
import urllib.request
from datetime import datetime, timedelta

import pytest
from PIL import Image

from tests.harness.processes import free_port, start_component
from tests.harness.store_builder import write_segment
from tests.maintenance.cluster import wubloader
from wubloader.store import SegmentType, create_tombstone

pytestmark = pytest.mark.slow

START = datetime(2024, 5, 1, 10)
FULL_RGB, PARTIAL_RGB, MISSING_RGB = (0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00), (0xFF, 0xFF, 0xFF)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def build_store(base):
    """Known holes, suspect and partial runs, odd durations, a tombstone, a temp file, an empty hour."""
    segments = []  # (start s, end s, type) of what must count

    def add(start, duration, kind=SegmentType.FULL, content=None):
        path = write_segment(base, at(start), duration, type=kind, content=content)
        segments.append((start, start + duration, kind))
        return path

    for i in range(600):  # 10:00-10:20 in 2 s segments
        if 150 <= i < 153:
            continue  # a 6 s hole at 10:05:00
        add(2 * i, 2.0, SegmentType.SUSPECT if 300 <= i < 305 else SegmentType.FULL)
    add(1200, 3.0)
    add(1203, 3.0)  # odd durations: pixel 10:20:02-04 is covered by two full segments
    add(1206.5, 2.0, SegmentType.PARTIAL)  # half a pixel missing before it
    add(1800.5, 1.0)  # inside one pixel only: that pixel stays missing
    add(3599.0, 3.0)  # runs into 11:00
    for i in range(300):  # 12:00-12:10
        add(7200 + 2 * i, 2.0)
    add(7260, 2.0, SegmentType.SUSPECT, content=b"other version")  # an overlap; still full
    hour_12 = base / "chan" / "source" / "2024-05-01T12"
    (hour_12 / "10:00.000000-2.0-temp-0b5c7a36-5f7e-4b7e-9d43-2a3c7f1f0e11.ts").write_bytes(b"")
    (tombstoned,) = hour_12.glob("05:00.000000-*.ts")  # 12:05:00 is hidden, so it counts as missing
    create_tombstone(tombstoned)
    segments.remove((7500, 7502.0, SegmentType.FULL))
    return segments


def covered(a, b, segs):
    """Whether [a, b) is covered by the union of `segs` (each (start, end)), by walking forward."""
    t = a
    while t < b:
        reach = max((e for s, e in segs if s <= t < e), default=None)
        if reach is None:
            return False
        t = reach
    return True


def expected_pixels(segments, hours):
    full = [(s, e) for s, e, k in segments if k is SegmentType.FULL]
    every = [(s, e) for s, e, _ in segments]
    result = []
    for i in range(hours * 1800):
        a, b = 2.0 * i, 2.0 * i + 2.0
        result.append(
            FULL_RGB if covered(a, b, full) else PARTIAL_RGB if covered(a, b, every) else MISSING_RGB
        )
    return result


def test_map_pixels_equal_an_independent_map(tmp_path):
    base = tmp_path / "store"
    segments = build_store(base)
    done = wubloader("coverage", "--base-dir", base, "--channels", "chan", "--once")
    assert done.returncode == 0, done.stderr
    assert "chan/source: 3 hours, 902 segments, 6 holes (5996.0 s), 1 overlaps" in done.stdout
    assert (
        "2024-05-01T10: 602 segments (596 full, 5 suspect, 1 partial, 0 bad), "
        "1206.0 s covered (1194.0 s by full), 0 overlaps"
    ) in done.stdout
    assert "2024-05-01T11: 0 segments" in done.stdout
    image = Image.open(base / "coverage-maps" / "chan_source_coverage.png").convert("RGB")
    assert image.size == (18, 300)
    actual = [image.getpixel((i // 300, i % 300)) for i in range(18 * 300)]
    expected = expected_pixels(segments, 3)
    assert actual == expected
    assert actual.count(MISSING_RGB) > 0 and actual.count(PARTIAL_RGB) > 0
    assert [p.name for p in (base / "coverage-maps").iterdir()] == ["chan_source_coverage.png"]


def test_unknown_channel_is_refused(tmp_path):
    write_segment(tmp_path, START)
    done = wubloader("coverage", "--base-dir", tmp_path, "--channels", "nope", "--once")
    assert done.returncode == 2 and "unknown channel 'nope'" in done.stderr
    assert not (tmp_path / "coverage-maps").exists()


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


def test_page_shows_every_nodes_map(tmp_path, components):
    bases = [tmp_path / n for n in "abc"]
    ports = [free_port() for _ in bases]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    for base in bases:
        build_store(base)
        assert wubloader("coverage", "--base-dir", base, "--channels", "chan", "--once").returncode == 0
    for n, base in enumerate(bases):
        peers = ",".join(u for m, u in enumerate(urls) if m != n)
        args = ["restreamer", "--base-dir", str(base), "--port", str(ports[n]), "--nodes", peers]
        components.append(start_component(args, tmp_path / "logs", port=ports[n]))
    status, kind, page = fetch(urls[0] + "/coverage")
    text = page.decode()
    assert status == 200 and kind.startswith("text/html")
    for url in urls[1:]:
        assert f'src="{url}/coverage-maps/chan_source_coverage.png"' in text
    assert 'src="/coverage-maps/chan_source_coverage.png"' in text and "this node" in text
    assert "setInterval" in text
    for url in urls:
        status, kind, body = fetch(url + "/coverage-maps/chan_source_coverage.png")
        assert status == 200 and kind == "image/png"
        assert body == (bases[urls.index(url)] / "coverage-maps" / "chan_source_coverage.png").read_bytes()
    for bad, code in (("nope.png", 404), (".hidden_coverage.png", 403), ("..%2Fchan", 403)):
        try:
            fetch(f"{urls[0]}/coverage-maps/{bad}")
            raise AssertionError(bad)
        except urllib.error.HTTPError as exc:
            assert exc.code == code, bad


def test_page_adds_the_database_nodes(tmp_path, components):
    from wubloader.db.database import Database
    from wubloader.db.nodes import Node, put_node

    url = f"sqlite:///{tmp_path / 'cluster.sqlite'}"
    database = Database(url)
    database.upgrade()
    database.call(put_node, Node(name="east", url="http://east.example:8000/"))
    database.call(put_node, Node(name="off", url="http://off.example:8000", backfill_from=False))
    database.close()
    base = tmp_path / "store"
    build_store(base)
    assert wubloader("coverage", "--base-dir", base, "--channels", "chan", "--once").returncode == 0
    port = free_port()
    args = ["restreamer", "--base-dir", str(base), "--port", str(port), "--nodes", "http://west.example:8000"]
    components.append(start_component([*args, "--db", url], tmp_path / "logs", port=port))
    _, _, page = fetch(f"http://127.0.0.1:{port}/coverage")
    text = page.decode()
    for peer in ("http://west.example:8000", "http://east.example:8000"):
        assert f'src="{peer}/coverage-maps/chan_source_coverage.png"' in text
    assert "off.example" not in text

    broken = free_port()
    bad_db = f"sqlite:///{tmp_path / 'missing' / 'nowhere.sqlite'}"
    args = [
        "restreamer",
        "--base-dir",
        str(base),
        "--port",
        str(broken),
        "--nodes",
        "http://west.example:8000",
    ]
    components.append(start_component([*args, "--db", bad_db], tmp_path / "logs", port=broken))
    status, _, page = fetch(f"http://127.0.0.1:{broken}/coverage")
    assert status == 200 and "node list is unavailable" in page.decode()
    assert "http://west.example:8000/coverage-maps/" in page.decode()
