"""Every listed transition is one ffmpeg accepts and renders for the requested number of frames."""

from __future__ import annotations

import subprocess

import pytest

from wubloader.media.errors import BadTransition
from wubloader.media.transitions import TRANSITIONS, transition_kind, xfade_filter

pytestmark = pytest.mark.ffmpeg


def test_table_lists_presets_and_custom_wipes():
    assert {"fade", "wipeleft", "zoomin", "squeezev", "clockwipe", "diamondwipe"} <= set(TRANSITIONS)
    assert "fadefast" not in TRANSITIONS and "fadeslow" not in TRANSITIONS
    assert all(kind.description for kind in TRANSITIONS.values())
    with pytest.raises(BadTransition):
        transition_kind("custom")


def test_every_transition_renders():
    # One ffmpeg run renders all of them side by side: 3 frames of xfade each on tiny inputs.
    names = sorted(TRANSITIONS)
    graph = []
    for i, name in enumerate(names):
        graph.append(f"color=red:s=32x32:r=25:d=0.2[a{i}];color=blue:s=32x32:r=25:d=0.2[b{i}]")
        graph.append(f"[a{i}][b{i}]{xfade_filter(name, 0.12, 0.0)}[o{i}]")
    args = ["ffmpeg", "-v", "error", "-filter_complex", ";".join(graph)]
    for i in range(len(names)):
        args += ["-map", f"[o{i}]", "-f", "null", "-"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
