"""Islands of the road network: served by their own outlets, and a stated reason when not."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gis.coverage import compute_coverage
from gis.network import RoadNetwork
from gis.region import Circle, RegionSettings
from tests.conftest import lonlat_from_xy


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


def test_long_detour_ratio_by_hand():
    """A U-shaped road: 300 m straight, 2.3 km by road → ratio and long_detour by hand."""
    # point at node 0 (0, 0); outlet at node 3 (300, 0); the road goes 0 → (0,1000) →
    # (300,1000) → 3: 2,300 m at 80 s per 100 m = 1,840 s; straight line 300 m at 4.5 km/h = 240 s
    x = np.array([0, 0, 300, 300.0])
    y = np.array([0, 1000, 1000, 0.0])
    lon, lat = lonlat_from_xy(x, y)
    u, v = np.array([0, 1, 2]), np.array([1, 2, 3])
    s = np.array([800.0, 240.0, 800.0])
    net = RoadNetwork.from_edges(lon=lon, lat=lat,
                                 edges={"walk": (np.r_[u, v], np.r_[v, u], np.r_[s, s])})
    settings, outlets, demand, areas = _frames(net, [0, 0], [0, 1000], [300])
    p = compute_coverage(net, settings, outlets, demand, areas).points
    straight = 300 / (4.5 / 3.6)
    assert p["detour_ratio"][0] == pytest.approx(1840 / straight, abs=0.05)  # 7.67
    assert list(p["flag"]) == ["long_detour", ""]  # from (0, 1000): 1,040 s vs 1,044 m → 1.0
    assert "7.7x the straight line" in p["flag_detail"][0]


def test_point_urban_flag_overrides_its_area():
    """An urban area's point flagged urban = false gets the rural circle (mode and minutes)."""
    net, *_ = _two_islands()
    settings, outlets, demand, areas = _frames(net, [200, 200], [0, 0], [0])
    settings = RegionSettings(circles={"urban": Circle(15, "walk"), "rural": Circle(30, "walk")},
                              max_snap_m=500)
    demand["urban"] = [None, False]
    p = compute_coverage(net, settings, outlets, demand, areas).points
    assert list(p["threshold_minutes"]) == [15, 30]


def test_andorra_sant_julia_has_a_reason(andorra, tmp_path):
    """Andorra: Sant Julià unreachable, Encamp a long detour; points.csv and the gpkg say why."""
    import geopandas as gpd

    from gis.coverage import coverage_of_region
    from gis.writers import write_coverage

    res = coverage_of_region(andorra)
    p = res.points
    enc = p[p["area_id"] == "A044"]  # Encamp: a median walk over 3 hours
    assert enc["minutes"].median() > 180 and (enc["flag"] == "long_detour").all()
    assert enc["detour_ratio"].min() > 3
    write_coverage(res, andorra, tmp_path)
    layer = gpd.read_file(tmp_path / "coverage.gpkg", layer="unreachable")
    assert set(layer["demand_id"]) == set(p.loc[~p["reachable"], "demand_id"])
    assert (layer["unreachable_reason"] != "").all()
    sj = p[p["area_id"] == "A027"]
    assert sj["population"].sum() > 5000 and not sj["reachable"].any()
    assert (sj["unreachable_reason"] == "island_without_outlet").all()
    assert sj["snap_m"].max() < 1000
    assert (p.loc[~p["reachable"], "unreachable_reason"] != "").all()
    assert (p.loc[p["reachable"], "unreachable_reason"] == "").all()
