"""deploy/grafana: the provisioned datasource is the one every dashboard panel names, the dashboard
provider loads the folder the dashboards are mounted in, and each dashboard is well-formed."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"


def test_every_panel_queries_the_provisioned_prometheus() -> None:
    (source,) = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    dashboards = [json.loads(path.read_text()) for path in sorted((GRAFANA / "dashboards").glob("*.json"))]
    assert {d["uid"] for d in dashboards} == {"wubloader-node", "wubloader-cluster"}
    for dashboard in dashboards:
        panels = dashboard["panels"]
        assert len({p["id"] for p in panels}) == len(panels), dashboard["uid"]
        graphs = [p for p in panels if p["type"] != "row"]
        assert graphs, dashboard["uid"]
        for panel in graphs:
            assert panel["targets"], panel["title"]
            for target in [panel, *panel["targets"]]:
                assert target["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]


def test_the_provider_loads_one_folder_of_dashboards() -> None:
    (provider,) = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "wubloader.yml").read_text())[
        "providers"
    ]
    assert (
        provider["type"] == "file" and provider["options"]["path"] == "/var/lib/grafana/dashboards/wubloader"
    )
