"""Local roads (``[files] extra_roads``): read, checked, joined to OSM, cached, used by coverage."""

from __future__ import annotations

import shutil

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point

from gis.errors import InputError
from gis.extra_roads import add_extra_roads, read_extra_roads
from gis.network import RoadNetwork
from tests.conftest import DATA, lonlat_from_xy

# Andorra: the end of Sant Julià's walking island and the nearest main-network node, 157 m apart
SANT_JULIA_END = (1.4906979, 42.4835945)
MAIN_NODE = (1.4920728, 42.4845742)


def _region_with_road(tmp_path, line, **cols):
    """A copy of data/andorra whose region.toml names a roads_local.gpkg holding ``line``."""
    reg = tmp_path / "andorra"
    shutil.copytree(DATA / "andorra", reg)
    gdf = gpd.GeoDataFrame({k: [v] for k, v in cols.items()}, geometry=[line], crs=4326)
    gdf.to_crs(3857).to_file(reg / "roads_local.gpkg")  # any CRS: the reader reprojects
    toml = (reg / "region.toml").read_text()
    (reg / "region.toml").write_text(toml.replace(
        'roads = "roads.osm.pbf"', 'roads = "roads.osm.pbf"\nextra_roads = "roads_local.gpkg"'))
    return reg


def test_local_road_joins_sant_julia_island(tmp_path):
    """A 157 m local path from Sant Julià's island to the main network makes its people reachable."""
    from gis.coverage import coverage_of_region
    from gis.region import load_region

    reg = _region_with_road(tmp_path, LineString([SANT_JULIA_END, MAIN_NODE]), highway="path")
    region = load_region(reg, cache_dir=tmp_path / "cache")
    net = region.network
    snap = net.snap([SANT_JULIA_END[0]], [SANT_JULIA_END[1]], mode="walk", islands=True)
    assert net.parts("walk")[snap.node[0]] == 0  # the island is now part of the main network
    p = coverage_of_region(region).points
    sj = p[p["area_id"] == "A027"]
    assert sj["population"].sum() > 5000 and sj["reachable"].all()
    assert (sj["unreachable_reason"] == "").all()
    # a path is not drivable: the drive network keeps its old parts there
    assert "drive" in net.modes


def test_extra_roads_are_in_the_cache_key(tmp_path):
    """Adding a local-roads file builds a new cached network; the same file again hits it."""
    from gis.region import load_region

    reg = _region_with_road(tmp_path, LineString([SANT_JULIA_END, MAIN_NODE]), highway="path")
    cache = tmp_path / "cache"
    load_region(DATA / "andorra", cache_dir=cache)
    load_region(reg, cache_dir=cache)
    assert len(list(cache.glob("network-*.npz"))) == 2
    load_region(reg, cache_dir=cache)
    assert len(list(cache.glob("network-*.npz"))) == 2


def _hand_graph():
    """OSM-like graph: 1 —— 2 —— 3 along y = 0, 200 m steps, a two-way residential street."""
    x = np.array([0.0, 200.0, 400.0])
    lon, lat = lonlat_from_xy(x, np.zeros(3))
    G = nx.MultiDiGraph(crs="epsg:4326")
    for i, nid in enumerate((1, 2, 3)):
        G.add_node(nid, x=float(lon[i]), y=float(lat[i]))
    for a, b in ((1, 2), (2, 3)):
        for s, t in ((a, b), (b, a)):
            G.add_edge(s, t, length=200.0, highway="residential", oneway=False)
    return G


def _roads(lines, **cols):
    gdf = gpd.GeoDataFrame({k: v for k, v in cols.items()}, geometry=lines, crs=4326)
    gdf["row"] = np.arange(1, len(gdf) + 1)
    return gdf


def test_joins_at_nearby_node_and_midway_and_modes():
    """End 10 m from node 3 merges with it; an end 20 m off mid-segment 1—2 gets a connector."""
    G = _hand_graph()
    a = lonlat_from_xy([410.0, 410.0], [0.0, 500.0])      # road A: from ~node 3 north, 500 m
    b = lonlat_from_xy([100.0, 100.0], [20.0, -300.0])    # road B: 20 m off the middle of 1—2
    roads = _roads([LineString(zip(*a, strict=True)), LineString(zip(*b, strict=True))],
                   highway=["track", None], speed_kmh=[None, 36.0], drive=[None, False],
                   oneway=[False, True])
    add_extra_roads(G, roads, tolerance_m=30)
    net = RoadNetwork.from_graph(G)
    idx = {n: i for i, n in enumerate(net.node_osmid.tolist())}
    # road A merged its first end into node 3: walking 3 -> A's far end is one 500 m edge
    far_a = idx[-1]  # new nodes count down from -1: A's far end
    w = net.graph("walk")
    assert w[idx[3], far_a] == pytest.approx(np.hypot(10, 500) / (4.5 / 3.6), rel=0.02)
    # track: not drivable by class (track is excluded from drive)
    assert net.parts("drive")[far_a] == -1
    # road B: walkable, joined by a connector to node 1 or 2 (both 100 m along, ~102 m away)
    assert net.parts("walk")[idx[-3]] == net.parts("walk")[idx[1]] == 0
    assert net.parts("drive")[idx[-3]] == -1  # drive = false forbids it
    connector = max(w[idx[-2], idx[1]], w[idx[-2], idx[2]])  # one of them exists
    assert connector == pytest.approx(np.hypot(100, 20) / (4.5 / 3.6), rel=0.02)


def test_bad_rows_are_named(tmp_path):
    """Wrong geometry, no class and no speed, a bad speed: each problem names row and column."""
    gdf = gpd.GeoDataFrame({"highway": ["path", None, None], "speed_kmh": [None, None, -5.0]},
                           geometry=[Point(1.5, 42.5), LineString([(1.5, 42.5), (1.51, 42.5)]),
                                     LineString([(1.5, 42.5), (1.51, 42.5)])], crs=4326)
    path = tmp_path / "roads_local.gpkg"
    gdf.to_file(path)
    with pytest.raises(InputError) as err:
        read_extra_roads(path)
    text = str(err.value)
    assert "row 1" in text and "geometry" in text and "Point" in text
    assert "row 2" in text and "highway" in text
    assert "row 3" in text and "speed_kmh" in text


def test_layer_without_crs_is_refused(tmp_path):
    """A file without a CRS is refused: the reader cannot guess metres from degrees."""
    path = tmp_path / "r.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                    '{"highway":"path"},"geometry":{"type":"LineString","coordinates":'
                    '[[0,0],[1,1]]}}]}')
    roads = gpd.read_file(path)
    assert roads.crs is not None  # GeoJSON is WGS-84 by definition: accepted
    assert len(read_extra_roads(path)) == 1
