"""The guide's own-region walk-through, as a new user would do it (docs/guide.md, "Your own
region"): clip one parish out of a raw extract with osmium, `bianmin region init`, add outlets,
then coverage, map and routes on it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pandas as pd
import pytest
from typer.testing import CliRunner

from bianmin.cli import app
from tests.conftest import DATA

RAW = DATA / "andorra" / "roads.osm.pbf"  # the raw Andorra extract, as shipped
PARISH = "r2804757"  # La Massana's boundary relation



def test_osmium_tool_is_installed():
    """`make test` installs Debian's osmium-tool, which the guide uses to clip extracts."""
    assert shutil.which("osmium"), "osmium-tool missing: run `make test`, which installs it"


@pytest.fixture(scope="module")
def parish_region(tmp_path_factory):
    """Steps 1–3 of the guide: clip with osmium, init the region, add two outlets."""
    work = tmp_path_factory.mktemp("walk")
    run = lambda *a: subprocess.run(a, cwd=work, check=True, capture_output=True)  # noqa: E731
    run("osmium", "getid", "-r", str(RAW), PARISH, "-o", "parish-boundary.osm.pbf")
    run("osmium", "export", "parish-boundary.osm.pbf", "-o", "parish.geojson",
        "--geometry-types=polygon")
    names = [f["properties"].get("name") for f in
             json.loads((work / "parish.geojson").read_text())["features"]]
    assert names == ["La Massana"]
    run("osmium", "extract", "-p", "parish.geojson", str(RAW), "-o", "lamassana.osm.pbf")
    res = CliRunner().invoke(app, ["region", "init", "--osm", str(work / "lamassana.osm.pbf"),
                                   "--out", str(work / "lamassana"), "--name", "La Massana",
                                   "--total-population", "10000"])
    assert res.exit_code == 0, res.output
    assert "No outlets found" in res.output  # OSM maps none there: the guide says add yours
    region = work / "lamassana"
    (region / "outlets.csv").write_text(
        "id,name,kind,lon,lat,hours,services\n"
        "H1,Comú de La Massana,service_hall,1.5149,42.5453,09:00-17:00,padró;certificats\n"
        "P1,Correus Arinsal,post_office,1.4846,42.5721,09:00-13:00,correus\n",
        encoding="utf-8")
    return region


def test_parish_coverage(parish_region, tmp_path):
    """Coverage runs on the clipped parish; every demand point lies in it; rural areas exist."""
    res = CliRunner().invoke(app, ["coverage", "--region", str(parish_region),
                                   "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    areas = pd.read_csv(tmp_path / "coverage" / "areas.csv")
    assert areas["population"].sum() == pytest.approx(10000, abs=len(areas))
    assert (~areas["urban"]).any() and areas["urban"].any()
    pts = pd.read_csv(tmp_path / "coverage" / "points.csv")
    assert pts["covered"].any() and (~pts["covered"]).any()


def test_parish_map(parish_region, tmp_path):
    """Step 4: the parish's service map, offline, with its two outlets."""
    res = CliRunner().invoke(app, ["map", "--region", str(parish_region), "--out",
                                   str(tmp_path), "--tiles", "none", "--lang", "en",
                                   "--audience", "planning"])
    assert res.exit_code == 0, res.output
    outlets = json.loads((tmp_path / "map" / "planning" / "outlets.geojson").read_text(encoding="utf-8"))
    assert sorted(f["properties"]["id"] for f in outlets["features"]) == ["H1", "P1"]
    assert (tmp_path / "map" / "planning" / "index.html").stat().st_size > 1000


def test_parish_routes(parish_region, tmp_path):
    """Step 5: the day's routes for the parish, every served errand on a checked plan."""
    res = CliRunner().invoke(app, ["routes", "--region", str(parish_region), "--out",
                                   str(tmp_path), "--time-limit", "2", "--demo-errands", "12",
                                   "--demo-runners", "2", "--date", "2026-12-01", "--no-pdf"])
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "routes" / "plan.json").read_text(encoding="utf-8"))
    served = sum(len(r.get("stops", [])) for r in plan["routes"])
    assert served > 0
    assert len(list((tmp_path / "routes" / "sheets").glob("*.html"))) == 2
