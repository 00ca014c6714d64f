"""`bianmin demo` end to end on the default region: every output exists and is linked."""

from __future__ import annotations

import json
import re

import pandas as pd
from typer.testing import CliRunner

from bianmin.cli import app
from tests.conftest import DATA


def test_demo_writes_and_links_every_output(tmp_path):
    """The demo's index links coverage, siting, map and routes files that all exist."""
    res = CliRunner().invoke(app, ["demo", "--region", str(DATA / "chengdu"), "--out",
                                   str(tmp_path), "--time-limit", "2", "--add", "3",
                                   "--tiles", "none", "--date", "2026-12-01"])
    assert res.exit_code == 0, res.output
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    for required in ("coverage/areas.csv", "coverage/points.csv", "coverage/coverage.gpkg",
                     "siting/chosen.csv", "siting/curve.csv", "siting/areas_after.csv",
                     "map/planning/index.html", "map/public/index.html", "routes/routes.xlsx", "routes/plan.json"):
        assert required in links
    assert any(x.startswith("routes/sheets/") and x.endswith(".pdf") for x in links)
    for link in links:
        assert (tmp_path / link).exists(), link
    chosen = pd.read_csv(tmp_path / "siting" / "chosen.csv")
    assert len(chosen) == 3 and chosen["added_population"].is_monotonic_decreasing
    plan = json.loads((tmp_path / "routes" / "plan.json").read_text(encoding="utf-8"))
    assert plan["date"] == "2026-12-01"
    # the proposals are a layer of the published map
    assert (tmp_path / "map" / "planning" / "proposals.geojson").exists()
    # the closing summary names the index page to open first
    assert str(tmp_path / "index.html") in res.output
