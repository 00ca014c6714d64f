"""Province: counties.csv figures by hand and the budget split against brute force."""

from __future__ import annotations

import itertools

import numpy as np

from gis.coverage import coverage_of_region
from gis.partition_province import county_table, split_budget
from gis.synthetic import province


def test_split_equals_brute_force():
    """For every budget, the split's total equals the best of all allocations of the curves."""
    rng = np.random.default_rng(4)
    curves = {f"C{i}": np.r_[0.0, np.cumsum(rng.integers(0, 50, 4))] + rng.integers(0, 100)
              for i in range(4)}
    for budget in range(0, 9):
        choices, curve = split_budget(curves, budget)
        brute = max(sum(curves[c][k] for c, k in zip(sorted(curves), ks, strict=True))
                    for ks in itertools.product(range(5), repeat=4) if sum(ks) <= budget)
        assert choices["covered_population"].sum() == brute
        assert choices["units"].sum() <= budget
        assert curve["covered_population"].iloc[-1] == brute


def test_split_takes_the_steeper_curve():
    """Two units: county B's 100 + 90 beats A's 60 and A's 60 + B's 100."""
    choices, _ = split_budget({"A": np.array([5.0, 65.0, 66.0]),
                               "B": np.array([0.0, 100.0, 190.0])}, 2)
    assert list(choices["units"]) == [0, 2]
    assert list(choices["covered_population"]) == [5.0, 190.0]


def test_county_table_sums_the_points():
    """Each county's population and covered people are the sums of its points; urban + rural."""
    reg = province(4, 400, 100, seed=3)
    cov = coverage_of_region(reg)
    t = county_table(cov, reg.areas, "county").set_index("county")
    pts = cov.points.assign(county=cov.points["area_id"].str[:4])
    assert list(t.index) == ["C000", "C001", "C002", "C003"]
    for c, g in pts.groupby("county"):
        assert t.loc[c, "population"] == g["population"].sum()
        assert t.loc[c, "covered_population"] == g.loc[g["covered"], "population"].sum()
        urban = g["area_id"].str.endswith("T4")
        assert t.loc[c, "urban_population"] == g.loc[urban, "population"].sum()
    assert (t["urban_population"] + t["rural_population"] == t["population"]).all()
    assert t["population"].sum() == cov.points["population"].sum()


def test_province_command_writes_counties(tmp_path):
    """`bianmin province --partition-by id` on Chengdu: one row per area, populations add up."""
    import pandas as pd
    from typer.testing import CliRunner

    from bianmin.cli import app
    from gis.region import load_region

    res = CliRunner().invoke(app, ["province", "--region", "data/chengdu", "--out",
                                   str(tmp_path), "--partition-by", "id", "--workers", "1",
                                   "-q"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "province" / "counties.csv")
    reg = load_region("data/chengdu")
    assert len(t) == len(reg.areas)
    assert t["population"].sum() == reg.demand["population"].sum()
    assert t["items_weighted_rate"].between(0, 1).all()
    assert "A001" in (tmp_path / "province" / "map" / "index.html").read_text()


def test_province_map_shades_and_escapes(tmp_path):
    """The map: one polygon per county, coloured by rate band, popups escaped, offline."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from gis.partition_province import county_shapes
    from maps.province import write_province_map

    areas = gpd.GeoDataFrame({"id": ["a", "b", "c"], "county": ["<b>X</b>", "<b>X</b>", "Y"]},
                             geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1),
                                       shapely.box(0, 1, 1, 2)], crs="EPSG:4326")
    table = pd.DataFrame({"county": ["<b>X</b>", "Y"], "population": [10.0, 4.0],
                          "coverage_rate": [0.96, 0.25]})
    shapes = county_shapes(areas, "county", table)
    assert len(shapes) == 2 and shapes.set_index("county").geometry["<b>X</b>"].area == 2.0
    page = write_province_map(shapes, tmp_path / "map").read_text()
    assert "&lt;b&gt;X&lt;/b&gt;" in page and "<b>X</b>" not in page
    assert "#1a9850" in page and "#d73027" in page  # ≥ 95 % green, < 50 % red
    assert (tmp_path / "map" / "assets" / "leaflet" / "leaflet.js").exists()
