"""Islands of the road network: served by their own outlets, and a stated reason when not."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.coverage import compute_coverage
from gis.network import RoadNetwork
from gis.region import Circle, RegionSettings
from tests.conftest import DATA, lonlat_from_xy


def _two_islands():
    """Walk network: 0—1—2 (100 m steps, 80 s each) and, 5 km away, 3—4; a lone part 5—6."""
    x = np.array([0, 100, 200, 5000, 5100, 9000, 9100.0])
    y = np.zeros(7)
    lon, lat = lonlat_from_xy(x, y)
    u, v = np.array([0, 1, 3, 5]), np.array([1, 2, 4, 6])
    s = np.full(4, 80.0)
    net = RoadNetwork.from_edges(lon=lon, lat=lat,
                                 edges={"walk": (np.r_[u, v], np.r_[v, u], np.r_[s, s])})
    return net, x, lon, lat


def _frames(net, px, py, ox):
    plon, plat = lonlat_from_xy(np.asarray(px, float), np.asarray(py, float))
    olon, olat = lonlat_from_xy(np.asarray(ox, float), np.zeros(len(ox)))
    outlets = pd.DataFrame({"id": [f"O{i}" for i in range(len(ox))], "lon": olon, "lat": olat})
    demand = gpd.GeoDataFrame({"id": [f"D{i}" for i in range(len(px))],
                               "population": np.full(len(px), 10.0), "area_id": "A",
                               "lon": plon, "lat": plat},
                              geometry=gpd.points_from_xy(plon, plat), crs=4326)
    areas = pd.DataFrame({"id": ["A"], "name": ["A"], "urban": [True]})
    settings = RegionSettings(circles={"urban": Circle(60, "walk"), "rural": Circle(60, "walk")},
                              max_snap_m=500)
    return settings, outlets, demand, areas


def test_outlet_on_each_island_reaches_every_point():
    """Two parts, an outlet on each: every point is reached by the outlet of its own part."""
    net, *_ = _two_islands()
    settings, outlets, demand, areas = _frames(net, [200, 5000], [0, 0], [0, 5100])
    p = compute_coverage(net, settings, outlets, demand, areas).points
    assert p["reachable"].all() and list(p["outlet_id"]) == ["O0", "O1"]
    # by hand: two edges of 80 s to O0; one edge of 80 s to O1 (no access/egress legs)
    np.testing.assert_allclose(p["minutes"], [160 / 60, 80 / 60], atol=0.01)
    assert (p["unreachable_reason"] == "").all() and (p["snap_m"] < 1).all()


def test_reasons_island_and_too_far():
    """No outlet on the 5—6 part → island_without_outlet; 2 km off every road → too_far."""
    net, *_ = _two_islands()
    settings, outlets, demand, areas = _frames(net, [9050, 100, 200], [0, 2000, 0], [0])
    p = compute_coverage(net, settings, outlets, demand, areas).points
    assert list(p["reachable"]) == [False, False, True]
    assert list(p["unreachable_reason"]) == ["island_without_outlet", "too_far_from_road", ""]
    assert "2 nodes, 0.1 km of road" in p["unreachable_detail"][0]
    assert "nearest outlet O0 at 9.1 km" in p["unreachable_detail"][0]
    # 2 km by construction; the test's local projection and the network's UTM differ by < 1 %
    assert abs(p["snap_m"][1] - 2000) < 20 and "m to the nearest walk road" in p[
        "unreachable_detail"][1]


def test_andorra_sant_julia_has_a_reason():
    """Andorra: Sant Julià's people are unreachable on foot, and points.csv says why."""
    from gis.coverage import coverage_of_region
    from gis.region import load_region

    res = coverage_of_region(load_region(DATA / "andorra"))
    p = res.points
    sj = p[p["area_id"] == "A027"]
    assert sj["population"].sum() > 5000 and not sj["reachable"].any()
    assert (sj["unreachable_reason"] == "island_without_outlet").all()
    assert sj["snap_m"].max() < 1000
    assert (p.loc[~p["reachable"], "unreachable_reason"] != "").all()
    assert (p.loc[p["reachable"], "unreachable_reason"] == "").all()
