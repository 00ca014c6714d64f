"""Coverage: minutes to the nearest outlet worked out by hand, area tables, unreachable points."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.coverage import compute_coverage, grouped_weighted_quantile, weighted_quantile
from gis.network import RoadNetwork, Speeds
from gis.region import Circle, RegionSettings
from tests.conftest import lonlat_from_xy

WALK_MS = 4.5 / 3.6


def hand_region():
    """A 1 km street 0-1-2-3-4 (250 m links) and a disconnected lane 5-6 far away.

    Walk at 4.5 km/h: 250 m = 200 s. E-bike at 15 km/h: 250 m = 60 s.
    """
    x = np.array([0, 250, 500, 750, 1000, 5000, 5250.0])
    y = np.zeros(7)
    lon, lat = lonlat_from_xy(x, y)
    u = np.array([0, 1, 2, 3, 5])
    v = np.array([1, 2, 3, 4, 6])
    walk = 250 / WALK_MS
    bike = 250 / (15 / 3.6)
    edges = {m: (np.r_[u, v], np.r_[v, u], np.full(10, s)) for m, s in
             (("walk", walk), ("ebike", bike))}
    net = RoadNetwork.from_edges(lon=lon, lat=lat, edges=edges, speeds=Speeds())
    settings = RegionSettings(circles={"urban": Circle(15, "walk"), "rural": Circle(30, "ebike")},
                              max_snap_m=500)
    olon, olat = lonlat_from_xy([0.0], [0.0])  # outlet exactly on node 0
    outlets = gpd.GeoDataFrame({"id": ["O1"], "lon": olon, "lat": olat},
                               geometry=gpd.points_from_xy(olon, olat), crs=4326)
    # demand: at node 2 + 50 m north (urban), node 4 (urban), node 4 (rural), island (rural)
    dx, dy = np.array([500, 1000, 1000, 5250.0]), np.array([50, 0, 0, 0.0])
    dlon, dlat = lonlat_from_xy(dx, dy)
    demand = gpd.GeoDataFrame({"id": ["d1", "d2", "d3", "d4"], "lon": dlon, "lat": dlat,
                               "population": [100.0, 200.0, 300.0, 400.0],
                               "area_id": ["U", "U", "R", "R"]},
                              geometry=gpd.points_from_xy(dlon, dlat), crs=4326)
    areas = pd.DataFrame({"id": ["U", "R"], "name": ["Town", "Village"], "urban": [True, False]})
    return net, settings, outlets, demand, areas


def test_minutes_by_hand():
    """Each point's minutes = access leg + network time, against its own area's circle."""
    res = compute_coverage(*hand_region())
    p = res.points.set_index("demand_id")
    # d1: 50 m access walk (40 s) + 2 walk links (400 s) = 440 s = 7.33 min, urban 15 → covered
    assert p.loc["d1", "minutes"] == pytest.approx(440 / 60, abs=0.02)
    assert p.loc["d1", "covered"] and p.loc["d1", "mode"] == "walk"
    # d2: 4 walk links = 800 s = 13.33 min → covered
    assert p.loc["d2", "minutes"] == pytest.approx(800 / 60, abs=0.02)
    # d3: rural, e-bike 4 links = 240 s = 4 min, threshold 30 → covered
    assert p.loc["d3", "minutes"] == pytest.approx(4.0, abs=0.02)
    assert p.loc["d3", "threshold_minutes"] == 30
    assert p.loc["d1", "outlet_id"] == "O1"


def test_unreachable_is_reported_not_zero_or_infinite():
    """A point on a lane cut off from every outlet is unreachable: no minutes, not covered."""
    res = compute_coverage(*hand_region())
    p = res.points.set_index("demand_id")
    assert not p.loc["d4", "reachable"] and not p.loc["d4", "covered"]
    assert np.isnan(p.loc["d4", "minutes"]) and pd.isna(p.loc["d4", "outlet_id"])
    a = res.areas.set_index("area_id")
    assert a.loc["R", "unreachable_population"] == 400
    assert np.isfinite(a[["median_minutes", "p90_minutes"]].to_numpy(dtype=float)).all()


def test_area_table_and_totals():
    """Per-area population, covered population and rate, and the region's total."""
    res = compute_coverage(*hand_region())
    a = res.areas.set_index("area_id")
    assert a.loc["U", "population"] == 300 and a.loc["U", "covered_population"] == 300
    assert a.loc["R", "coverage_rate"] == pytest.approx(300 / 700, abs=1e-4)
    assert res.total["covered_population"] == 600
    assert res.total["coverage_rate"] == pytest.approx(600 / 1000)


def test_threshold_bites():
    """Moving the outlet 2 links further puts d2 outside its 15-minute walking circle."""
    net, settings, outlets, demand, areas = hand_region()
    lon, lat = lonlat_from_xy([-500.0], [0.0])  # 500 m off the street's west end: far
    far = outlets.assign(lon=lon, lat=lat, geometry=gpd.points_from_xy(lon, lat))
    res = compute_coverage(net, settings, far, demand, areas)
    p = res.points.set_index("demand_id")
    # egress leg 500 m walk = 400 s; d2 = 800 + 400 = 1200 s = 20 min > 15
    assert p.loc["d2", "minutes"] == pytest.approx(20.0, abs=0.02)
    assert not p.loc["d2", "covered"]


def test_weighted_quantile_against_repetition():
    """The weighted median equals the plain median of the values repeated by weight."""
    rng = np.random.default_rng(1)
    v = rng.random(30) * 40
    w = rng.integers(1, 6, 30)
    for q in (0.5, 0.9):
        expected = np.quantile(np.repeat(v, w), q, method="inverted_cdf")
        assert weighted_quantile(v, w, q) == pytest.approx(expected)


def test_chengdu_coverage_consistent(chengdu):
    """On the bundled region: covered ⇔ minutes ≤ threshold, and area sums equal the total."""
    from gis.coverage import coverage_of_region

    res = coverage_of_region(chengdu)
    p = res.points
    ok = p["reachable"]
    assert (p.loc[ok, "covered"] == (p.loc[ok, "minutes"] <= p.loc[ok, "threshold_minutes"])).all()
    assert res.areas["population"].sum() == pytest.approx(res.total["population"])
    assert 0 < res.total["coverage_rate"] < 1
    inside = shapely.contains_xy(chengdu.areas.union_all(), p.geometry.x, p.geometry.y)
    assert inside.all()


def test_grouped_quantile_equals_per_group():
    """The vectorised per-area quantile equals the one-group function, group by group."""
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 7, 300)
    v = rng.random(300) * 30
    v[rng.random(300) < 0.1] = np.nan
    w = rng.integers(0, 9, 300).astype(float)
    for q in (0.5, 0.9):
        got = grouped_weighted_quantile(codes, 8, v, w, q)
        want = [weighted_quantile(v[codes == g], w[codes == g], q) for g in range(8)]
        assert np.allclose(got, want, equal_nan=True)
    both = grouped_weighted_quantile(codes, 8, v, w, (0.5, 0.9))
    assert np.allclose(both[0], grouped_weighted_quantile(codes, 8, v, w, 0.5), equal_nan=True)
    assert np.allclose(both[1], grouped_weighted_quantile(codes, 8, v, w, 0.9), equal_nan=True)
    assert weighted_quantile(v, w, (0.5, 0.9)) == [weighted_quantile(v, w, 0.5),
                                                   weighted_quantile(v, w, 0.9)]
