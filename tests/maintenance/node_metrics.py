"""Reading a running node's Prometheus metrics in tests."""

from __future__ import annotations

import re
import urllib.request


def metric_total(url: str, name: str, labels: str = "") -> float:
    """Sum of the samples of `name` whose label text contains `labels` (0 if none)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for match in re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", text, re.M):
        if labels in (match[1] or ""):
            total += float(match[2])
    return total
