"""The one circle rule (gis.rules): coverage, circles and siting agree at the boundary."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.circles import CircleOptions, service_circles
from gis.coverage import compute_coverage
from gis.errors import InputError
from gis.network import RoadNetwork, Speeds
from gis.region import Circle, RegionSettings
from gis.rules import point_circles, point_is_urban, search_limit_s, shown_minutes, within_circle
from gis.siting.coversets import network_cover_sets
from tests.conftest import lonlat_from_xy

#: Network seconds from each leaf to the outlet at the hub, around the 15-minute boundary.
LEAF_S = np.array([899.4, 899.99, 900.0, 900.29, 900.3, 900.6, 901.0])


def star_town():
    """A hub (the outlet) and one leaf per time in LEAF_S, 2 km away in its own direction.

    Edge seconds are set by hand (not from lengths); each demand point sits exactly on its
    leaf and the outlet on the hub, so access and egress legs are zero.
    """
    k = len(LEAF_S)
    ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
    x = np.r_[0.0, 2000 * np.cos(ang)]
    y = np.r_[0.0, 2000 * np.sin(ang)]
    lon, lat = lonlat_from_xy(x, y)
    leaf = np.arange(1, k + 1)
    hub = np.zeros(k, dtype=np.int64)
    edges = {"walk": (np.r_[leaf, hub], np.r_[hub, leaf], np.r_[LEAF_S, LEAF_S])}
    net = RoadNetwork.from_edges(lon=lon, lat=lat, edges=edges, speeds=Speeds())
    outlets = gpd.GeoDataFrame({"id": ["O"], "name": ["hall"], "kind": ["service_hall"],
                                "lon": lon[:1], "lat": lat[:1]},
                               geometry=gpd.points_from_xy(lon[:1], lat[:1]), crs=4326)
    demand = gpd.GeoDataFrame({"id": [f"d{i}" for i in range(k)], "lon": lon[1:],
                               "lat": lat[1:], "population": np.full(k, 10.0),
                               "area_id": ["U"] * k},
                              geometry=gpd.points_from_xy(lon[1:], lat[1:]), crs=4326)
    areas = gpd.GeoDataFrame({"id": ["U"], "name": ["Town"], "urban": [True]},
                             geometry=[shapely.box(103.9, 30.5, 104.2, 30.7)], crs=4326)
    return net, outlets, demand, areas


def test_rule_at_fifteen_minutes():
    """899.4 s and 900.29 s are within 15 minutes (shown 14.99, 15.0); 900.6 s is not."""
    got = within_circle(np.array([899.4, 900.29, 900.6, np.inf, np.nan]), 15.0)
    assert got.tolist() == [True, True, False, False, False]
    assert shown_minutes(np.array([899.4, 900.29, 900.6])).tolist() == [14.99, 15.0, 15.01]


def test_search_limit_reaches_every_time_within():
    """Every time the rule calls within lies at or below the search limit, at 15 and 30 min."""
    for minutes in (15.0, 30.0):
        t = minutes * 60 + np.linspace(-2, 2, 40_001)
        inside = t[within_circle(t, minutes)]
        assert inside.max() <= search_limit_s(minutes)
        assert inside.max() > minutes * 60  # the limit is needed: times past 60 × minutes count


def test_coverage_circles_and_cover_sets_agree_at_the_boundary():
    """Covered by the table ⇔ counted by the circles' search ⇔ in the siting cover sets."""
    net, outlets, demand, areas = star_town()
    settings = RegionSettings(circles={"urban": Circle(15, "walk"), "rural": Circle(30, "walk")})
    cov = compute_coverage(net, settings, outlets, demand, pd.DataFrame(areas))
    covered = cov.points["covered"].to_numpy()
    # worked by hand: 899.4, 899.99, 900.0, 900.29 are within; 900.6 and 901.0 are not
    assert covered[[0, 1, 2, 3]].all() and not covered[[5, 6]].any()
    circles = service_circles(net, settings, outlets, demand, areas,
                              options=CircleOptions(cell_m=50.0))
    assert circles.counted.tolist() == covered.tolist()
    minutes, modes = point_circles(point_is_urban(demand, areas), settings.circles)
    cs = network_cover_sets(net, demand["lon"].to_numpy(), demand["lat"].to_numpy(), minutes,
                            modes, outlets["lon"].to_numpy(), outlets["lat"].to_numpy(),
                            workers=1)
    in_sets = np.diff(cs.times.indptr) > 0
    assert in_sets.tolist() == covered.tolist()


def test_point_flag_overrides_area_and_missing_area_is_an_input_error():
    """A filled per-point flag wins over the area's; blanks fall back; unknown areas are named."""
    areas = pd.DataFrame({"id": ["U", "R"], "urban": [True, False]})
    demand = pd.DataFrame({"area_id": ["U", "R", "R", "U"],
                           "urban": [None, True, None, False]})
    assert point_is_urban(demand, areas).tolist() == [True, True, False, False]  # on by default
    assert point_is_urban(demand, areas, flag_column=None).tolist() == [
        True, False, False, True]
    assert point_is_urban(demand, None).tolist() == [True, True, True, False]
    with pytest.raises(InputError, match="row 2.*'X' is not in the areas table"):
        point_is_urban(pd.DataFrame({"area_id": ["U", "X"]}), areas)
