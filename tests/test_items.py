"""Service items: catalogue validation, outlets × items, coverage per item worked by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gis.coverage import compute_coverage
from gis.errors import InputError
from gis.items import ItemTable, item_coverage, load_catalogue, parse_services, read_outlet_items
from gis.network import RoadNetwork, Speeds
from gis.region import Circle, RegionSettings
from gis.synthetic import grid_network
from tests.conftest import lonlat_from_xy

WALK_MS = 4.5 / 3.6


def catalogue(ids=("A", "B", "C"), weights=(2.0, 1.0, 1.0)) -> pd.DataFrame:
    """A catalogue frame as load_catalogue returns it."""
    return pd.DataFrame({"id": list(ids), "name": [f"事项{i}" for i in ids],
                         "name_en": "", "category": "", "delegable_to": [()] * len(ids),
                         "weight": list(weights), "in_person": True,
                         "runner_can_carry": False})


def street():
    """A 1,250 m street 0..5 (250 m links = 200 s walking); outlets O1 at node 0, O2 at node 5.

    Demand (one urban area, 15 min walk): d1 at node 1 (100 people), d2 at node 5 (200),
    d3 at node 3 (300).
    """
    x = np.arange(6) * 250.0
    lon, lat = lonlat_from_xy(x, np.zeros(6))
    u, v = np.arange(5), np.arange(1, 6)
    s = np.full(10, 250 / WALK_MS)
    net = RoadNetwork.from_edges(lon=lon, lat=lat, edges={"walk": (np.r_[u, v], np.r_[v, u], s),
                                                          "ebike": (np.r_[u, v], np.r_[v, u],
                                                                    s / 3.33)},
                                 speeds=Speeds())
    settings = RegionSettings(circles={"urban": Circle(15, "walk"), "rural": Circle(30, "ebike")},
                              max_snap_m=500)
    olon, olat = lonlat_from_xy([0.0, 1250.0], [0.0, 0.0])
    outlets = gpd.GeoDataFrame({"id": ["O1", "O2"], "lon": olon, "lat": olat},
                               geometry=gpd.points_from_xy(olon, olat), crs=4326)
    dlon, dlat = lonlat_from_xy([250.0, 1250.0, 750.0], [0.0, 0.0, 0.0])
    demand = gpd.GeoDataFrame({"id": ["d1", "d2", "d3"], "lon": dlon, "lat": dlat,
                               "population": [100.0, 200.0, 300.0], "area_id": ["U"] * 3},
                              geometry=gpd.points_from_xy(dlon, dlat), crs=4326)
    areas = pd.DataFrame({"id": ["U"], "name": ["Town"], "urban": [True]})
    return net, settings, outlets, demand, areas


def test_item_coverage_by_hand():
    """Item A (O1 only) misses d2 (16.67 min away); item B (both outlets) covers everyone."""
    net, settings, outlets, demand, areas = street()
    handles = np.array([[True, True, False], [False, True, False]])  # O1: A,B  O2: B
    ic = item_coverage(net, settings, outlets, demand, areas, ItemTable(catalogue(), handles))
    t = ic.table.set_index("item_id")
    # A: d1 200 s = 3.33 min, d3 600 s = 10 min covered; d2 1000 s = 16.67 min > 15
    assert t.loc["A", "covered_population"] == pytest.approx(400.0)
    assert t.loc["A", "coverage_rate"] == pytest.approx(0.6667, abs=1e-4)
    # weighted median of (3.33:100, 10:300, 16.67:200) = 10; p90 = 16.67
    assert t.loc["A", "median_minutes"] == pytest.approx(10.0, abs=0.01)
    assert t.loc["A", "p90_minutes"] == pytest.approx(1000 / 60, abs=0.01)
    assert t.loc["B", "covered_population"] == pytest.approx(600.0)
    # B: d2 0 min (200), d1 3.33 (100), d3 6.67 to O2 (300): cumulative 200, 300 → median 3.33
    assert t.loc["B", "median_minutes"] == pytest.approx(200 / 60, abs=0.01)
    assert t.loc["B", "p90_minutes"] == pytest.approx(400 / 60, abs=0.01)
    assert t.loc["C", "covered_population"] == 0 and np.isnan(t.loc["C", "median_minutes"])
    # all-outlet coverage is B's
    allc = compute_coverage(net, settings, outlets, demand, areas)
    assert allc.total["covered_population"] == pytest.approx(600.0)
    # weights A=2, B=1, C=1: d1 3/4, d2 1/4, d3 3/4 → region (75+50+225)/600
    assert ic.point_weighted == pytest.approx([0.75, 0.25, 0.75])
    assert ic.total["weighted_rate"] == pytest.approx(350 / 600)
    assert ic.weighted["weighted_rate"].iloc[0] == pytest.approx(0.5833, abs=1e-4)
    assert ic.worst(1)["item_id"].tolist() == ["C"]


def test_identical_sets_searched_once(monkeypatch):
    """Items with the same outlet set share one search; a set of every outlet reuses base."""
    net, settings, outlets, demand, areas = street()
    calls = []
    real = RoadNetwork.times_to_nearest

    def spy(self, *a, **k):
        calls.append(len(a[0]))
        return real(self, *a, **k)

    monkeypatch.setattr(RoadNetwork, "times_to_nearest", spy)
    # 6 items: three on {O1}, two on {O1,O2}, one on {O2}
    handles = np.array([[1, 1, 1, 1, 1, 0], [0, 0, 0, 1, 1, 1]], bool)
    cat = catalogue(ids=tuple("ABCDEF"), weights=(1,) * 6)
    ic = item_coverage(net, settings, outlets, demand, areas, ItemTable(cat, handles))
    assert len(calls) == 3 and ic.total["n_sets"] == 3
    calls.clear()
    base = compute_coverage(net, settings, outlets, demand, areas)
    calls.clear()
    ic2 = item_coverage(net, settings, outlets, demand, areas, ItemTable(cat, handles), base=base)
    assert len(calls) == 2 and ic2.total["searches"] == 2
    pd.testing.assert_frame_equal(ic.table, ic2.table)


@pytest.mark.parametrize("seed", range(4))
def test_item_never_exceeds_all_outlets(seed):
    """For random outlet subsets, no item's area coverage exceeds the all-outlet coverage."""
    rng = np.random.default_rng(seed)
    net = grid_network(900, seed=seed)
    settings = RegionSettings(circles={"urban": Circle(5, "walk"), "rural": Circle(6, "ebike")})
    nodes = rng.choice(net.n_nodes, 12, replace=False)
    outlets = gpd.GeoDataFrame({"id": [f"O{i}" for i in range(12)], "lon": net.lon[nodes],
                                "lat": net.lat[nodes]},
                               geometry=gpd.points_from_xy(net.lon[nodes], net.lat[nodes]),
                               crs=4326)
    pts = rng.choice(net.n_nodes, 200)
    demand = gpd.GeoDataFrame({"id": [str(i) for i in range(200)], "lon": net.lon[pts],
                               "lat": net.lat[pts], "population": rng.integers(1, 9, 200) * 1.0,
                               "area_id": rng.choice(["U", "R"], 200)},
                              geometry=gpd.points_from_xy(net.lon[pts], net.lat[pts]), crs=4326)
    areas = pd.DataFrame({"id": ["U", "R"], "name": ["u", "r"], "urban": [True, False]})
    handles = rng.random((12, 8)) < 0.4
    cat = catalogue(ids=tuple("ABCDEFGH"), weights=(1,) * 8)
    ic = item_coverage(net, settings, outlets, demand, areas, ItemTable(cat, handles))
    allc = compute_coverage(net, settings, outlets, demand, areas).areas.set_index("area_id")
    got = ic.table.set_index("area_id")
    assert (got["covered_population"].to_numpy()
            <= allc.loc[got.index, "covered_population"].to_numpy() + 1e-9).all()
    assert (ic.items["covered_population"] > 0).any()  # the property is not vacuous
    # and each item equals the plain coverage run on its own outlets (both circles, two modes)
    for j, item in enumerate(cat["id"]):
        if not handles[:, j].any():
            continue
        one = compute_coverage(net, settings, outlets[handles[:, j]], demand, areas)
        mine = ic.table[ic.table["item_id"] == item].set_index("area_id")
        ref = one.areas.set_index("area_id").loc[mine.index]
        np.testing.assert_allclose(mine["covered_population"], ref["covered_population"])
        np.testing.assert_allclose(mine["median_minutes"], ref["median_minutes"])


def write(tmp_path, name, text):
    """Write a small CSV into tmp_path."""
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_catalogue_reads(tmp_path):
    """A good catalogue: kinds split, weight defaults to 1, bools parsed."""
    p = write(tmp_path, "items.csv", "id,name,category,delegable_to,weight,in_person\n"
              "I1,社保卡申领,社保,post_office;bank,30,true\nI2,户口迁移,户籍,,,false\n")
    cat = load_catalogue(p)
    assert cat["delegable_to"].tolist() == [("post_office", "bank"), ()]
    assert cat["weight"].tolist() == [30.0, 1.0]
    assert cat["in_person"].tolist() == [True, False]


@pytest.mark.parametrize("text, row, column, match", [
    ("id,name\nI1,甲\nI1,乙\n", 2, "id", "duplicate id 'I1'"),
    ("id,name\nI1,甲\nI2,甲\n", 2, "name", "duplicate name"),
    ("id,name,delegable_to\nI1,甲,post_office;spaceport\n", 1, "delegable_to",
     "unknown outlet kind 'spaceport'"),
    ("id,name,weight\nI1,甲,-2\n", 1, "weight", "out of range: expected a number ≥ 0"),
    ("id,name\n", None, None, "no data rows"),
])
def test_catalogue_errors(tmp_path, text, row, column, match):
    """Each bad catalogue names the file, the row and the column."""
    p = write(tmp_path, "items.csv", text)
    with pytest.raises(InputError, match=match) as e:
        load_catalogue(p)
    prob = e.value.problems[0]
    assert prob.file == str(p) and prob.row == row and prob.column == column


def test_services_parsing():
    """Ids or names, ';' or full-width '；', '*' = every item."""
    s = pd.Series(["A；事项B", "*", "", "C; A"])
    m = parse_services(s, catalogue(), file="outlets.csv")
    assert m.tolist() == [[True, True, False], [True, True, True], [False] * 3,
                          [True, False, True]]


def test_services_unknown_and_star_mixed():
    """An unknown name lists the closest catalogue names; '*' with names is an error."""
    s = pd.Series(["事项A;事项X", "*;A"])
    with pytest.raises(InputError) as e:
        parse_services(s, catalogue(), file="outlets.csv")
    p1, p2 = e.value.problems
    assert (p1.file, p1.row, p1.column) == ("outlets.csv", 1, "services")
    assert "unknown item '事项X'" in p1.message and "closest: 事项" in p1.message
    assert (p2.row, p2.column) == (2, "services") and "'*'" in p2.message


def test_outlet_items_table(tmp_path):
    """The long table fills the matrix; unknown outlets and items are named by row."""
    p = write(tmp_path, "oi.csv", "outlet_id,item_id\nO1,A\nO2,*\nO1,事项C\n")
    m = read_outlet_items(p, pd.Series(["O1", "O2"]), catalogue())
    assert m.tolist() == [[True, False, True], [True, True, True]]
    bad = write(tmp_path, "bad.csv", "outlet_id,item_id\nO9,A\nO1,Z\n")
    with pytest.raises(InputError) as e:
        read_outlet_items(bad, pd.Series(["O1", "O2"]), catalogue())
    assert [(q.row, q.column) for q in e.value.problems] == [(1, "outlet_id"), (2, "item_id")]


def test_bundled_region_items(andorra):
    """Andorra's illustrative catalogue: items differ in coverage, none above all-outlet."""
    from gis.coverage import coverage_of_region
    from gis.items import item_coverage_of_region

    base = coverage_of_region(andorra)
    ic = item_coverage_of_region(andorra, base=base)
    rates = ic.items["coverage_rate"]
    assert ic.total["n_items"] == 40 and rates.nunique() >= 2
    assert ic.items["covered_population"].max() <= base.total["covered_population"] + 1e-6
