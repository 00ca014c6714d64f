"""RoadNetwork: CSR build, snapping, nearest-source times, matrices, cache, osmnx agreement."""

from __future__ import annotations

import bz2
import subprocess

import networkx as nx
import numpy as np
import pytest

from gis.errors import InputError
from gis.network import RoadNetwork, Speeds
from tests.conftest import DATA, ROOT, lonlat_from_xy


def line_network():
    """0 —60s— 1 —120s— 2 —30s— 3 (walk, both ways), plus an island 4 — 5; 100 m apart."""
    x = np.array([0, 100, 200, 300, 2000, 2100.0])
    y = np.zeros(6)
    lon, lat = lonlat_from_xy(x, y)
    u = np.array([0, 1, 2, 4])
    v = np.array([1, 2, 3, 5])
    s = np.array([60.0, 120.0, 30.0, 10.0])
    both = (np.r_[u, v], np.r_[v, u], np.r_[s, s])
    # drive: one-way loop 0->1->2->3->0 and a parallel slower 0->1 edge that must be ignored
    drive = (np.array([0, 0, 1, 2, 3]), np.array([1, 1, 2, 3, 0]),
             np.array([5.0, 50.0, 5.0, 5.0, 5.0]))
    return RoadNetwork.from_edges(lon=lon, lat=lat, edges={"walk": both, "drive": drive})


def test_parallel_edges_keep_the_shortest():
    """Of two parallel edges the CSR holds the shorter one, not their sum."""
    net = line_network()
    assert net.graph("drive")[0, 1] == pytest.approx(5.0)


def test_largest_strongly_connected_part_is_main():
    """The island 4—5 is kept as part 1 of walk; the main network (nodes_in) is part 0."""
    net = line_network()
    assert net.nodes_in("walk").tolist() == [True, True, True, True, False, False]
    assert net.parts("walk").tolist() == [0, 0, 0, 0, 1, 1]
    assert net.graph("walk")[4, 5] == 10.0


def test_times_to_nearest_by_hand():
    """Two sources: times and nearest source worked out by hand, with egress offsets."""
    net = line_network()
    t, which = net.times_to_nearest([0, 3], mode="walk")
    assert t[:4].tolist() == pytest.approx([0, 60, 30, 0])
    assert which[:4].tolist() == [0, 0, 1, 1]
    assert np.isinf(t[4]) and which[4] == -1
    # a 100 s egress at source 0 moves node 1 to source 1 (120+30 = 150 < 60+100 = 160)
    t, which = net.times_to_nearest([0, 3], mode="walk", offsets_s=[100.0, 0.0])
    assert t[:4].tolist() == pytest.approx([100, 150, 30, 0])
    assert which[:4].tolist() == [0, 1, 1, 1]


def test_times_respect_direction():
    """People travel TO the source: on the one-way drive chain only upstream nodes reach 3."""
    x = np.array([0, 100, 200.0])
    lon, lat = lonlat_from_xy(x, np.zeros(3))
    cyc = (np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([10.0, 20.0, 40.0]))
    net = RoadNetwork.from_edges(lon=lon, lat=lat, edges={"drive": cyc})
    t, _ = net.times_to_nearest([2], mode="drive")
    assert t.tolist() == pytest.approx([30.0, 20.0, 0.0])  # 0->1->2, 1->2
    m = net.matrix([0, 2], [1, 2], mode="drive")
    assert np.allclose(m, [[10.0, 30.0], [50.0, 0.0]])


def test_snap_and_access_leg():
    """A point 45 m off node 2 snaps there with a 45 m / walking-speed access leg."""
    net = line_network()
    lon, lat = lonlat_from_xy([200.0], [45.0])
    s = net.snap(lon, lat, mode="walk")
    assert s.node.tolist() == [2]
    assert s.distance_m[0] == pytest.approx(45.0, rel=0.01)
    assert s.access_s[0] == pytest.approx(45.0 / (4.5 / 3.6), rel=0.01)


def test_snap_many_points_matches_brute_force():
    """Large batches are queried in Z-order; the answer is still each point's nearest node."""
    from gis.synthetic import grid_network

    net = grid_network(2_500, seed=3)
    rng = np.random.default_rng(3)
    n = 5_000
    lon = rng.uniform(net.lon.min(), net.lon.max(), n)
    lat = rng.uniform(net.lat.min(), net.lat.max(), n)
    snap = net.snap(lon, lat, mode="walk")
    px, py = net.project(lon, lat)
    nodes = np.flatnonzero(net.nodes_in("walk"))
    d2 = (px[:, None] - net.x[nodes][None, :]) ** 2 + (py[:, None] - net.y[nodes][None, :]) ** 2
    best = np.sqrt(d2.min(axis=1))
    np.testing.assert_allclose(snap.distance_m, best, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(px - net.x[snap.node], py - net.y[snap.node]), best,
                               rtol=0, atol=1e-6)


def test_save_and_load_roundtrip(tmp_path):
    """A saved network answers the same as the original."""
    net = line_network()
    net.save(tmp_path / "n.npz")
    back = RoadNetwork.load(tmp_path / "n.npz")
    assert back.modes == net.modes and back.crs == net.crs
    assert (back.graph("walk") != net.graph("walk")).nnz == 0


def test_speeds_validate():
    """Speeds out of range are refused with the parameter named."""
    with pytest.raises(ValueError, match="walk_kmh"):
        Speeds(walk_kmh=40)


def _reference_times(u, v, sec, sources, offsets):
    """networkx multi-source Dijkstra on the reversed edge list, each source at its offset."""
    G = nx.DiGraph()
    for a, b, s in zip(u.tolist(), v.tolist(), sec.tolist(), strict=True):
        if not G.has_edge(b, a) or G[b][a]["w"] > s:
            G.add_edge(b, a, w=max(s, 1e-3))  # reversed: people travel to the outlet
    for src, off in zip(sources.tolist(), offsets.tolist(), strict=True):
        G.add_edge("start", src, w=off)  # a super source: each outlet starts at its egress leg
    ref = nx.single_source_dijkstra_path_length(G, "start", weight="w")
    ref.pop("start")
    return np.fromiter(ref.keys(), int), np.fromiter(ref.values(), float)


def _check_against_networkx(net, lon, lat):
    """Our nearest-outlet times, main network AND islands, equal networkx's on the kept ways."""
    from gis.islands import outlet_sources

    for mode in ("walk", "ebike", "drive"):
        src, off, _ = outlet_sources(net, lon, lat, mode=mode, max_snap_m=1000)
        ours, _ = net.times_to_nearest(src, mode=mode, offsets_s=off)
        nodes, vals = _reference_times(*net.edges(mode)[:3], src, off)
        assert np.allclose(ours[nodes], vals, rtol=1e-9, atol=1e-6)
        unreached = np.setdiff1d(np.arange(net.n_nodes), nodes)
        assert np.isinf(ours[unreached]).all()
        reached_islands = np.isfinite(ours) & (net.parts(mode) > 0)
        yield mode, int(reached_islands.sum())


@pytest.mark.parametrize("region", ["chengdu", "andorra"])
def test_real_region_times_agree_with_networkx(region, request):
    """Nearest-outlet times on a bundled region (islands included) equal networkx's."""
    reg = request.getfixturevalue(region)
    found = dict(_check_against_networkx(reg.network, reg.outlets["lon"].to_numpy(),
                                         reg.outlets["lat"].to_numpy()))
    assert set(found) == {"walk", "ebike", "drive"}


SHARED_OSM = [ROOT.parent / "shared" / "data" / "osm", ROOT.parents[1] / "shared" / "data" / "osm"]
#: A third extract: Escaldes-Engordany, clipped with osmium-tool from the 2013 Andorra extract
#: (the clip cuts ways at the box's edge, so it has islands of its own).
CLIP_BBOX = (1.525, 42.500, 1.560, 42.520)


@pytest.fixture(scope="module")
def clipped(tmp_path_factory):
    """The third extract, built by the test with ``osmium extract`` (Makefile DEB_TEST)."""
    src = next((d / "andorra-2013.osm.pbf" for d in SHARED_OSM
                if (d / "andorra-2013.osm.pbf").exists()), DATA / "andorra" / "roads.osm.pbf")
    out = tmp_path_factory.mktemp("clip") / "escaldes.osm.pbf"
    subprocess.run(["osmium", "extract", "-b", ",".join(map(str, CLIP_BBOX)), "-s", "simple",
                    str(src), "-o", str(out)], check=True, capture_output=True)
    return out


def test_third_extract_times_agree_with_networkx_including_islands(clipped, tmp_path):
    """A clipped extract: our times equal networkx's on every part, islands with outlets too."""
    net = RoadNetwork.from_osm_file(clipped, cache_dir=tmp_path)
    assert net.parts("walk").max() > 0  # the clip made islands
    rng = np.random.default_rng(7)
    w, s, e, n = CLIP_BBOX
    lon, lat = rng.uniform(w, e, 12), rng.uniform(s, n, 12)
    # one outlet on the walk islands' biggest, so that an island is served
    isl = np.flatnonzero(net.parts("walk") == 1)[0]
    lon, lat = np.r_[lon, net.lon[isl]], np.r_[lat, net.lat[isl]]
    found = dict(_check_against_networkx(net, lon, lat))
    assert found["walk"] > 0  # island nodes got finite times, and they agree


def test_walk_times_agree_with_an_independent_osmnx_graph(clipped, tmp_path):
    """Walk times from our arrays equal a networkx search on osmnx's own graph, filtered here."""
    from gis.islands import outlet_sources
    from gis.osmread import graph_from_osm_file

    net = RoadNetwork.from_osm_file(clipped, cache_dir=tmp_path)
    G = graph_from_osm_file(clipped)
    no_walk = {"motorway", "motorway_link", "construction", "proposed", "abandoned",
               "platform", "raceway", "bus_guideway", "escape"}
    walk_ms = 4.5 / 3.6
    R = nx.DiGraph()
    for a, b, d in G.edges(data=True):
        hw = d.get("highway")
        hw = hw[0] if isinstance(hw, list) else hw
        foot, access = d.get("foot"), d.get("access")
        if hw in no_walk or foot == "no" or (access in ("no", "private") and foot != "yes"):
            continue
        t = d["length"] / walk_ms
        for x, y in ((a, b), (b, a)):  # on foot both ways; reversed graph is the same
            if not R.has_edge(x, y) or R[x][y]["w"] > t:
                R.add_edge(x, y, w=t)
    rng = np.random.default_rng(11)
    w, s, e, n = CLIP_BBOX
    lon, lat = rng.uniform(w, e, 8), rng.uniform(s, n, 8)
    src, off, _ = outlet_sources(net, lon, lat, mode="walk", max_snap_m=1000)
    for node, o in zip(net.node_osmid[src].tolist(), off.tolist(), strict=True):
        R.add_edge("start", node, w=o)
    ref = nx.single_source_dijkstra_path_length(R, "start", weight="w")
    ref.pop("start")
    ours, _ = net.times_to_nearest(src, mode="walk", offsets_s=off)
    index = {nid: i for i, nid in enumerate(net.node_osmid.tolist())}
    got = np.array([ours[index[k]] for k in ref])
    assert len(ref) > 1000
    np.testing.assert_allclose(got, np.fromiter(ref.values(), float), rtol=1e-6, atol=1e-3)
    assert np.isinf(np.delete(ours, [index[k] for k in ref])).all()


def test_osm_cache_hit(tmp_path):
    """A second build of the same file comes from the cache and is identical."""
    src = DATA / "chengdu" / "roads.osm.bz2"
    a = RoadNetwork.from_osm_file(src, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("network-*.npz"))) == 1
    b = RoadNetwork.from_osm_file(src, cache_dir=tmp_path)
    assert (a.graph("drive") != b.graph("drive")).nnz == 0
    assert a.n_nodes > 5000 and set(a.modes) == {"walk", "ebike", "drive"}


def test_truncated_osm_file_is_a_clear_error(tmp_path):
    """A truncated extract names the file and says it is truncated or corrupt."""
    raw = bz2.decompress((DATA / "chengdu" / "roads.osm.bz2").read_bytes())
    bad = tmp_path / "cut.osm"
    bad.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(InputError, match=r"cut\.osm.*(truncated|corrupt)"):
        RoadNetwork.from_osm_file(bad, cache_dir=tmp_path)


def test_graphml_input_matches_osm_input(tmp_path):
    """A GraphML file saved by osmnx gives the same network as the OSM extract it came from."""
    import osmnx as ox

    from gis.osmread import graph_from_osm_file

    G = graph_from_osm_file(DATA / "chengdu" / "roads.osm.bz2")
    G = G.subgraph(list(G.nodes)[:2500]).copy()  # a small piece keeps the test quick
    ox.save_graphml(G, tmp_path / "roads.graphml")
    a = RoadNetwork.from_graph(G)
    b = RoadNetwork.from_osm_file(tmp_path / "roads.graphml", cache_dir=tmp_path)
    assert a.n_nodes == b.n_nodes
    assert abs(a.graph("drive") - b.graph("drive")).max() < 1e-6


@pytest.mark.network
def test_from_place_online():
    """With the internet, a place query builds a network (off by default: no internet here)."""
    net = RoadNetwork.from_place("Ordino, Andorra")
    assert net.n_nodes > 100 and "walk" in net.modes
