"""Service-circle polygons on hand-built networks: cut edges, islands, rivers, population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.circles import CircleOptions, reach_polygons, reach_union, service_circles
from gis.coverage import compute_coverage, coverage_of_region
from gis.network import RoadNetwork, Speeds
from gis.region import Circle, RegionSettings
from tests.conftest import lonlat_from_xy

WALK_MS = 4.5 / 3.6


def river_town():
    """Street A (y=0): nodes 0-4 at 250 m, then 4-5 500 m long; street B across a river (y=300)
    joined to A only by a bridge 3 km away; and an island lane far off.

    Walking: 250 m = 200 s, 500 m = 400 s. From node 0 in 15 minutes (900 s): node 4 at 800 s,
    so the edge 4-5 is reached for 100 s of its 400 s, i.e. 125 m: cut at x = 1125.
    """
    xa = np.array([0, 250, 500, 750, 1000, 1500, 3000.0])
    xb = np.array([0, 250, 500, 750, 1000, 1500, 3000.0])
    x = np.r_[xa, xb, 9000, 9250]
    y = np.r_[np.zeros(7), np.full(7, 300.0), 0, 0]
    lon, lat = lonlat_from_xy(x, y)
    ua = np.array([0, 1, 2, 3, 4, 5])
    u = np.r_[ua, ua + 7, 6, 14]  # street A, street B, bridge 6-13, island 14-15
    v = np.r_[ua + 1, ua + 8, 13, 15]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    sec = length / WALK_MS
    edges = {"walk": (np.r_[u, v], np.r_[v, u], np.r_[sec, sec])}
    return RoadNetwork.from_edges(lon=lon, lat=lat, edges=edges, speeds=Speeds()), x, y


def _local(net: RoadNetwork, x, y):
    """Hand metres → the network's projected metres (the same points)."""
    lon, lat = lonlat_from_xy(x, y)
    return net.project(lon, lat)


def test_partly_reached_edge_is_cut_at_the_remaining_time():
    """With no widening, the reach ends 125 m past node 4 on the 500 m edge (±2 cells)."""
    net, _, _ = river_town()
    opts = CircleOptions(cell_m=2.0, max_access_m=0.0)
    (poly,) = reach_polygons(net, [0], mode="walk", budget_s=900.0, options=opts)
    px, _ = _local(net, [1125.0], [0.0])
    x0, _ = _local(net, [0.0], [0.0])
    minx, _, maxx, _ = poly.bounds
    assert maxx == pytest.approx(px[0], abs=2 * 2.0 + 1)
    assert minx == pytest.approx(x0[0], abs=2 * 2.0 + 1)


def test_egress_leg_shortens_the_reach():
    """A 100 s walk from the node to the outlet takes 125 m off the far end."""
    net, _, _ = river_town()
    opts = CircleOptions(cell_m=2.0, max_access_m=0.0)
    (poly,) = reach_polygons(net, [0], mode="walk", budget_s=900.0, offsets_s=[100.0],
                             options=opts)
    px, _ = _local(net, [1000.0], [0.0])
    assert poly.bounds[2] == pytest.approx(px[0], abs=5)


def test_river_and_island_stay_out_widening_stays_short():
    """No point across the river or on the island is painted; the roadside walk is capped."""
    net, _, _ = river_town()
    opts = CircleOptions(cell_m=5.0, max_access_m=100.0)
    (poly,) = reach_polygons(net, [0], mode="walk", budget_s=900.0, options=opts)
    qx, qy = _local(net, [500, 500, 500, 500, 9100, 1300], [0, 90, 150, 300, 0, 0])
    inside = shapely.contains_xy(poly, qx, qy)
    # on the street, 90 m beside it: in; 150 m beside it, across the river, island: out;
    # 1300 m is 175 m past the cut (1125 m) with no time left to walk: out
    assert inside.tolist() == [True, True, False, False, False, False]


def test_union_equals_union_of_polygons():
    """The multi-source union covers the same ground as the per-source polygons (± a cell)."""
    net, _, _ = river_town()
    opts = CircleOptions(cell_m=5.0, max_access_m=50.0)
    polys = reach_polygons(net, [0, 7], mode="walk", budget_s=600.0, options=opts)
    union = reach_union(net, [0, 7], mode="walk", budget_s=600.0, options=opts)
    sym = shapely.symmetric_difference(shapely.union_all(polys), union).area
    assert sym < union.length * 5.0  # the grids differ by less than a cell along the edge


def hand_population():
    """Street A from the river town with residents along it, one across the river."""
    net, x, y = river_town()
    settings = RegionSettings(circles={"urban": Circle(15, "walk"), "rural": Circle(30, "walk")},
                              max_snap_m=500)
    olon, olat = lonlat_from_xy([0.0, 1500.0], [0.0, 300.0])
    outlets = gpd.GeoDataFrame({"id": ["O1", "O2"], "name": ["一号", "二号"],
                                "kind": ["post_office", "bank"], "lon": olon, "lat": olat},
                               geometry=gpd.points_from_xy(olon, olat), crs=4326)
    dx = np.array([250, 900, 1100, 1200, 500, 1500, 250, 9100.0])
    dy = np.array([40, 0, 20, 0, 260, 290, 300, 10.0])
    dlon, dlat = lonlat_from_xy(dx, dy)
    demand = gpd.GeoDataFrame({"id": [f"d{i}" for i in range(8)], "lon": dlon, "lat": dlat,
                               "population": np.arange(1, 9) * 100.0,
                               "area_id": ["U"] * 8},
                              geometry=gpd.points_from_xy(dlon, dlat), crs=4326)
    areas = gpd.GeoDataFrame({"id": ["U"], "name": ["Town"], "urban": [True]},
                             geometry=[shapely.box(103.9, 30.5, 104.2, 30.7)], crs=4326)
    return net, settings, outlets, demand, areas


def test_population_inside_matches_coverage_table():
    """A point is counted inside some circle exactly when the coverage table says covered."""
    net, settings, outlets, demand, areas = hand_population()
    res = service_circles(net, settings, outlets, demand, areas,
                          options=CircleOptions(cell_m=5.0, max_access_m=100.0))
    cov = compute_coverage(net, settings, outlets, demand, pd.DataFrame(areas))
    covered = cov.points["covered"].to_numpy()
    assert res.counted.tolist() == covered.tolist()
    assert 0 < covered.sum() < len(covered)
    assert res.network["population"].iloc[0] == pytest.approx(cov.total["covered_population"])
    # each point covered by its nearest outlet is counted for that outlet
    per = dict(zip(res.outlets["outlet_id"], res.outlets["population"], strict=True))
    pop = cov.points["population"].to_numpy()
    for oid in ("O1", "O2"):
        mine = (cov.points["outlet_id"] == oid).to_numpy() & covered
        assert per[oid] >= pop[mine].sum()
    assert res.by_kind.set_index("kind").loc["post_office", "population"] == per["O1"]
    # each kind's population is what coverage says that kind's outlets alone cover
    for kind, row in res.by_kind.set_index("kind").iterrows():
        alone = compute_coverage(net, settings, outlets[outlets["kind"] == kind], demand,
                                 pd.DataFrame(areas))
        assert row["population"] == pytest.approx(alone.total["covered_population"])


def test_bundled_region_agrees_with_coverage(andorra):
    """Andorra (urban walk and rural e-bike circles, unreachable valleys): counts agree."""
    res = service_circles(andorra.network, andorra.settings, andorra.outlets, andorra.demand,
                          andorra.areas)
    cov = coverage_of_region(andorra)
    assert res.counted.tolist() == cov.points["covered"].tolist()
    assert res.network["population"].iloc[0] == pytest.approx(cov.total["covered_population"])
    assert res.inside_share > 0.9
    assert set(res.outlets["circle"]) <= {"urban", "rural"}
    assert res.outlets.crs.to_epsg() == 4326
    assert res.outlets.geometry.is_valid.all() and not res.outlets.geometry.is_empty.any()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"cell_m": 0.5}, "cell_m"), ({"max_access_m": -1}, "max_access_m"),
    ({"chunk": 0}, "chunk"), ({"max_side": 4}, "max_side"),
])
def test_bad_options(kwargs, match):
    """Options check themselves."""
    with pytest.raises(ValueError, match=match):
        CircleOptions(**kwargs)
