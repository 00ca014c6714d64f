"""Partitioned coverage: the border buffer, a resident served across a county line, equality."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gis.coverage import coverage_of_region
from gis.errors import InputError
from gis.items import item_coverage_of_region, items_of_region
from gis.network import RoadNetwork, Speeds
from gis.partition import (
    buffer_rule,
    build_piece,
    open_cache,
    partitioned_coverage,
    partitioned_run,
    plan_pieces,
    write_cache,
)
from gis.region import Circle, Region, RegionSettings, load_region
from gis.synthetic import province
from tests.conftest import lonlat_from_xy

WALK_MS = 4.5 / 3.6


def street_region(n_nodes: int, outlets: dict[str, float],
                  residents: list[tuple[str, float, float, str]],
                  areas: list[tuple[str, str, str]]) -> Region:
    """A straight street of ``n_nodes`` nodes 250 m apart along y = 0, on foot, 15-min circles.

    ``outlets``: id → x (m); ``residents``: (id, x, population, area id); ``areas``: (id, name,
    county), all urban, no geometry; max_snap 500 m.
    """
    x = np.arange(n_nodes) * 250.0
    lon, lat = lonlat_from_xy(x, np.zeros(n_nodes))
    u, v = np.arange(n_nodes - 1), np.arange(1, n_nodes)
    sec = np.full(2 * (n_nodes - 1), 250 / WALK_MS)
    net = RoadNetwork.from_edges(lon=lon, lat=lat, edges={"walk": (np.r_[u, v], np.r_[v, u], sec)},
                                 speeds=Speeds())
    settings = RegionSettings(circles={"urban": Circle(15, "walk"), "rural": Circle(15, "walk")},
                              max_snap_m=500)
    olon, olat = lonlat_from_xy(list(outlets.values()), [0.0] * len(outlets))
    out = gpd.GeoDataFrame({"id": list(outlets), "lon": olon, "lat": olat},
                           geometry=gpd.points_from_xy(olon, olat), crs=4326)
    rid, rx, pop, area = (list(c) for c in zip(*residents, strict=True))
    dlon, dlat = lonlat_from_xy(rx, [0.0] * len(rx))
    demand = gpd.GeoDataFrame({"id": rid, "lon": dlon, "lat": dlat, "population": pop,
                               "area_id": area}, geometry=gpd.points_from_xy(dlon, dlat), crs=4326)
    aid, name, county = (list(c) for c in zip(*areas, strict=True))
    ar = gpd.GeoDataFrame({"id": aid, "name": name, "urban": [True] * len(aid), "county": county},
                          geometry=[None] * len(aid))
    return Region(path=None, settings=settings, network=net, outlets=out,  # type: ignore[arg-type]
                  demand=demand, areas=ar, files={})


def border_region() -> Region:
    """A 10 km street (41 nodes, 250 m links); county W is x < 5 km, county E the rest.

    Outlets: OW at x = 0, OE at x = 5.5 km. Residents: w1 at 1 km and w2 at 4.75 km (county W),
    e1 at 9.75 km (county E). Everything on foot, 15-minute circles, max_snap 500 m.
    """
    return street_region(41, {"OW": 0.0, "OE": 5500.0},
                         [("w1", 1000.0, 10.0, "W"), ("w2", 4750.0, 20.0, "W"),
                          ("e1", 9750.0, 30.0, "E")],
                         [("W", "West", "cw"), ("E", "East", "ce")])


def frames_equal(a, b) -> None:
    """Point tables, area tables and totals of two coverage results are the same."""
    pd.testing.assert_frame_equal(pd.DataFrame(a.points.drop(columns="geometry")),
                                  pd.DataFrame(b.points.drop(columns="geometry")))
    assert a.points.geometry.equals(b.points.geometry)
    pd.testing.assert_frame_equal(a.areas, b.areas)
    assert a.total == b.total


def test_buffer_rule_by_hand():
    """Buffer = 15 min (+0.3 s rounding slack) at the fastest walking edge + max_snap."""
    reg = border_region()
    rule = buffer_rule(reg.network, reg.settings)
    # measured on the edges in the local metric CRS (a hair off the 250 m of the drawing)
    assert rule.radius_m == pytest.approx(900.3 * WALK_MS + 500, rel=1e-3)
    assert rule.outlet_m == pytest.approx(rule.radius_m + 900.3 * WALK_MS, rel=1e-9)


def test_resident_served_across_the_county_line():
    """w2 (county W) walks 750 m east to OE in county E: 600 s = 10.00 min, covered."""
    reg = border_region()
    res = partitioned_coverage(reg, "county")
    p = res.points.set_index("demand_id")
    assert p.loc["w2", "outlet_id"] == "OE" and p.loc["w2", "minutes"] == 10.0
    assert p.loc["w2", "covered"]
    assert p.loc["w1", "outlet_id"] == "OW" and p.loc["w1", "minutes"] == 13.33
    # e1: 4.25 km to OE = 3400 s = 56.67 min, outside every buffer: the second pass finds it
    assert p.loc["e1", "outlet_id"] == "OE" and p.loc["e1", "minutes"] == 56.67
    assert not p.loc["e1", "covered"]
    frames_equal(res, coverage_of_region(reg))


def test_piece_holds_only_its_buffer():
    """County W's piece keeps nodes up to 1.625 km past its residents, and OE but not beyond."""
    reg = border_region()
    clip, parts = plan_pieces(reg, "county")
    assert [k for k, _ in parts] == ["ce", "cw"]
    west = clip.piece("cw", parts[1][1], reg.areas, buffer_rule(reg.network, reg.settings))
    x, _ = reg.network.project(west.network.lon, west.network.lat)
    # residents at 1 km and 4.75 km: nodes in [0, 2.625] and [3.125, 6.375] km, i.e. nodes
    # 0-10 and 13-25 (the 2.75 and 3 km nodes are further than 1.625 km from both)
    assert list(west.network.node_osmid) == [*range(11), *range(13, 26)]
    assert x.max() - x.min() == pytest.approx(6250, abs=10)
    assert list(west.outlets["id"]) == ["OW", "OE"]


def test_unknown_partition_field():
    """Partitioning by a field the areas lack is an input error naming the field."""
    with pytest.raises(InputError, match="district"):
        partitioned_coverage(border_region(), "district")


@pytest.mark.parametrize("name", ["andorra", "chengdu"])
def test_bundled_regions_by_area_equal_whole(name):
    """Each area its own partition: points, areas and totals equal the whole-region run."""
    reg = load_region(f"data/{name}")
    frames_equal(partitioned_coverage(reg, "id"), coverage_of_region(reg))


def test_chengdu_items_by_area_equal_whole():
    """Item tables (items.csv, items_matrix.csv, weighted) by area equal the whole run's."""
    reg = load_region("data/chengdu")
    items = items_of_region(reg)
    assert items is not None and items.n_items > 1
    cov, got = partitioned_run(reg, "id", items=items)
    whole = coverage_of_region(reg)
    want = item_coverage_of_region(reg, base=whole, items=items)
    frames_equal(cov, whole)
    for name in ("table", "items", "matrix", "weighted"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name))
    np.testing.assert_array_equal(got.set_covered, want.set_covered)
    assert got.total["weighted_rate"] == want.total["weighted_rate"]


def test_cut_from_memory_mapped_cache(tmp_path):
    """A piece cut from the on-disk cache equals the piece cut in memory, node for node."""
    reg = border_region()
    clip, parts = plan_pieces(reg, "county")
    spec = clip.spec("cw", parts[1][1], reg.areas, buffer_rule(reg.network, reg.settings))
    disk = build_piece(spec, open_cache(write_cache(clip.arrays, tmp_path / "net")))
    mem = build_piece(spec, clip.arrays)
    assert list(disk.network.node_osmid) == [*range(11), *range(13, 26)]
    np.testing.assert_array_equal(disk.network.node_osmid, mem.network.node_osmid)
    for mode in reg.network.modes:
        assert (disk.network.graph(mode) != mem.network.graph(mode)).nnz == 0
        # 24 kept nodes in two runs (11 + 13): 2 × (10 + 12) directed links
        assert disk.network.graph(mode).nnz == 44


def test_cache_cut_holds_no_mapping_and_only_its_modes(tmp_path):
    """A piece cut from the cache maps no cache file, has only the modes asked for, and its
    edge lists (read on first use) equal the in-memory cut's."""
    reg = province(4, 400, 100, seed=0)
    clip, parts = plan_pieces(reg, "county")
    spec = clip.spec(*parts[0], reg.areas, buffer_rule(reg.network, reg.settings))
    folder = write_cache(clip.arrays, tmp_path / "net")
    disk = build_piece(spec, open_cache(folder), modes={"walk"})
    mem = build_piece(spec, clip.arrays)
    assert disk.network.modes == ("walk",)
    assert set(mem.network.modes) == {"walk", "ebike", "drive"}
    assert (disk.network.graph_T("walk") != mem.network.graph_T("walk")).nnz == 0
    for got, want in zip(disk.network.edges("walk"), mem.network.edges("walk"), strict=True):
        np.testing.assert_array_equal(got, want)
    maps = Path("/proc/self/maps")
    if maps.exists():  # Linux: no page of the cache stays mapped once the cut is done
        assert str(folder) not in maps.read_text()
