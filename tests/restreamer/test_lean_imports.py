"""A restreamer that only serves segments must not pay for Pillow or SQLAlchemy (tens of MiB of RSS)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("PIL", "sqlalchemy")


def loaded_after(module: str) -> set[str]:
    script = f"import sys, {module}; print(__import__('json').dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return {name.split(".")[0] for name in json.loads(out.stdout)}


def test_the_restreamer_loads_no_image_or_database_library():
    assert not loaded_after("wubloader.restreamer.app") & set(HEAVY)


def test_composing_a_thumbnail_still_loads_pillow():
    assert "PIL" in loaded_after("wubloader.thumbnails.compose")
