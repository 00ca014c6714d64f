"""Bad input gets a clear error naming file, row and column, and leaves no partial output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bianmin.cli import app
from gis.errors import InputError
from gis.region import load_demand, load_outlets, load_region
from tests.conftest import DATA

BBOX = (104.0, 30.6, 104.2, 30.8)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


OUTLET_HEADER = "id,name,kind,lon,lat\n"


@pytest.mark.parametrize("body, match", [
    ("id,name,lon,lat\nP1,邮局,104.07,30.67\n", r"column 'kind'.*missing column"),
    ("", r"empty"),
    (OUTLET_HEADER, r"no data rows"),
    (OUTLET_HEADER + "P1,邮局,post_office,30.67,104.07\n",
     r"row 1.*latitude 104.07 is out of range.*swapped"),
    (OUTLET_HEADER + "P1,邮局,post_office,104.07,30.67\nP2,局,post_office,200,30.7\n",
     r"row 2, column 'lon'.*longitude 200.0 is out of range"),
    (OUTLET_HEADER + "P1,邮局,post_office,104.07,30.67\nP1,又一个,post_office,104.08,30.68\n",
     r"row 2, column 'id'.*duplicate id 'P1' \(first seen in row 1\)"),
    (OUTLET_HEADER + "P1,邮局,shop,104.07,30.67\n", r"row 1, column 'kind'.*'shop' unknown: expected one of"),
    (OUTLET_HEADER + "P1,邮局,post_office,abc,30.67\n", r"row 1, column 'lon'.*not a number"),
    (OUTLET_HEADER + "P1,邮局,post_office,116.39,39.9\n", r"outside the region"),
])
def test_outlet_file_problems(tmp_path, body, match):
    """Each kind of bad outlet file is named with its row and column."""
    f = write(tmp_path / "outlets.csv", body)
    with pytest.raises(InputError, match=match) as exc:
        load_outlets(f, bbox=BBOX)
    assert "outlets.csv" in str(exc.value)


def test_swapped_inside_region_is_named(tmp_path):
    """lat,lon swapped where both are valid degrees is caught against the region's bounds."""
    f = write(tmp_path / "d.csv", "id,lon,lat,population,area_id\nd1,30.67,104.07,10,A\n")
    with pytest.raises(InputError, match=r"row 1.*swapped"):
        load_demand(f, bbox=BBOX)


def test_every_problem_reported_at_once(tmp_path):
    """Three bad rows give three problems in one error."""
    f = write(tmp_path / "d.csv", "id,lon,lat,population,area_id\n"
              "d1,104.07,30.67,-5,A\nd2,104.07,95,10,A\nd3,104.07,30.67,x,A\n")
    with pytest.raises(InputError) as exc:
        load_demand(f, bbox=BBOX)
    rows = sorted(p.row for p in exc.value.problems)
    assert rows == [1, 2, 3]


def test_gbk_csv_is_read_correctly(tmp_path):
    """A CSV saved by Chinese Excel (GBK) keeps its Chinese names."""
    f = write(tmp_path / "outlets.csv",
              OUTLET_HEADER + "P1,成华区邮政支局,post_office,104.07,30.67\n", encoding="gbk")
    df = load_outlets(f, bbox=BBOX)
    assert df["name"].tolist() == ["成华区邮政支局"]


def test_gcj02_input_is_converted(tmp_path):
    """Amap (GCJ-02) coordinates become WGS-84 within a metre of the true point."""
    import prcoords

    g = prcoords.wgs_gcj((30.67, 104.07))
    f = write(tmp_path / "o.csv", OUTLET_HEADER + f"P1,邮局,post_office,{g.lon},{g.lat}\n")
    df = load_outlets(f, crs="gcj02", bbox=BBOX)
    assert abs(df["lon"].iloc[0] - 104.07) < 1e-5 and abs(df["lat"].iloc[0] - 30.67) < 1e-5


def copy_region(tmp_path: Path) -> Path:
    dst = tmp_path / "region"
    shutil.copytree(DATA / "chengdu", dst)
    return dst


def test_outlet_far_off_the_network(tmp_path):
    """An outlet kilometres from any road is named with its row and distance."""
    reg = copy_region(tmp_path)
    df = pd.read_csv(reg / "outlets.csv", dtype=str, keep_default_na=False)
    df.loc[2, "lon"], df.loc[2, "lat"] = "104.165", "30.62"
    df.to_csv(reg / "outlets.csv", index=False)
    with pytest.raises(InputError, match=r"outlets.csv, row 3, column 'lon/lat'.* m from the "
                       r"nearest walk road"):
        load_region(reg)


def test_unknown_area_in_demand(tmp_path):
    """A demand row naming an area the areas file lacks is reported."""
    reg = copy_region(tmp_path)
    df = pd.read_csv(reg / "demand.csv", dtype=str, keep_default_na=False)
    df.loc[4, "area_id"] = "NOPE"
    df.to_csv(reg / "demand.csv", index=False)
    with pytest.raises(InputError, match=r"demand.csv, row 5, column 'area_id'.*unknown area"):
        load_region(reg)


def test_cli_bad_input_exit_code_and_no_partial_output(tmp_path):
    """The CLI prints a one-line reason, exits 2, and writes no output files."""
    reg = copy_region(tmp_path)
    (reg / "demand.csv").write_text("id,lon,lat,population\n", encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["coverage", "--region", str(reg), "--out", str(out)])
    assert res.exit_code == 2
    assert "demand.csv" in res.output and "Traceback" not in res.output
    assert not out.exists() or not any(out.rglob("*.*"))


def test_cli_coverage_outputs(tmp_path):
    """`bianmin coverage` writes the three files with the documented columns."""
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["coverage", "--region", str(DATA / "chengdu"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    pts = pd.read_csv(out / "coverage" / "points.csv")
    assert list(pts.columns[:8]) == ["demand_id", "area_id", "population", "mode", "minutes",
                                     "threshold_minutes", "covered", "reachable"]
    areas = pd.read_csv(out / "coverage" / "areas.csv")
    assert {"area_id", "name", "population", "covered_population",
            "coverage_rate"} <= set(areas.columns)
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(out / "coverage" / "coverage.gpkg")}
    assert {"points", "areas", "outlets"} <= layers
    assert not list(out.rglob("*.tmp*"))


def test_every_command_has_help():
    """`--help` works for every command."""
    runner = CliRunner()
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in app.registered_commands:
        name = cmd.name or cmd.callback.__name__
        r = runner.invoke(app, [name, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output, name


def test_own_population_table_replaces_the_proxy(tmp_path):
    """`--population F` replaces the bundled proxy: the tables hold exactly the user's people."""
    f = write(tmp_path / "people.csv", "id,lon,lat,population,area_id\n"
              "p1,104.0715,30.6728,1200,A005\np2,104.1054,30.7056,800,A004\n", encoding="gbk")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["coverage", "--region", str(DATA / "chengdu"), "--out",
                                   str(out), "--population", str(f)])
    assert res.exit_code == 0, res.output
    assert "PROXY" not in res.output
    pts = pd.read_csv(out / "coverage" / "points.csv")
    assert sorted(pts["demand_id"]) == ["p1", "p2"]
    areas = pd.read_csv(out / "coverage" / "areas.csv").set_index("area_id")
    assert areas["population"].sum() == 2000
    assert areas.loc["A005", "population"] == 1200 and areas.loc["A004", "population"] == 800
    # p1 stands beside 成都市政务服务中心: well inside its 15-minute walk
    assert bool(pts.set_index("demand_id").loc["p1", "covered"])
