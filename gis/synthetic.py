"""Synthetic road networks for benchmarks and tests: a perturbed grid that looks like a city.

Nodes on a jittered grid with ~6% of streets missing, some one-way streets for driving, and
parallel edges (as osmnx MultiDiGraphs have) so the CSR build has to keep the shortest.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .network import RoadNetwork, Speeds
from .region import Region, RegionSettings

__all__ = ["grid_network", "to_networkx", "province", "province_candidates"]


def grid_network(n_nodes: int, *, seed: int = 0, spacing_m: float = 80.0,
                 lon0: float = 104.0, lat0: float = 30.6) -> RoadNetwork:
    """A connected-ish jittered grid of about ``n_nodes`` nodes near (lon0, lat0)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    gi, gj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    ii, jj = gi.ravel(), gj.ravel()
    x = jj * spacing_m + rng.normal(0, spacing_m * 0.15, side * side)
    y = ii * spacing_m + rng.normal(0, spacing_m * 0.15, side * side)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.06
    u, v = u[keep], v[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    m_per_deg_lat = 111_320.0
    m_per_deg_lon = m_per_deg_lat * np.cos(np.radians(lat0))
    lon = lon0 + x / m_per_deg_lon
    lat = lat0 + y / m_per_deg_lat
    speeds = Speeds()
    # driving: arterials every 10th row/column are faster; 10% of streets one-way
    arterial = ((ii[u] % 10 == 0) & (ii[v] % 10 == 0)) | ((jj[u] % 10 == 0) & (jj[v] % 10 == 0))
    kmh = np.where(arterial, 40.0, 20.0)
    oneway = rng.random(len(u)) < 0.10
    du = np.concatenate([u, v[~oneway]])
    dv = np.concatenate([v, u[~oneway]])
    dsec = np.concatenate([length / kmh * 3.6, (length / kmh * 3.6)[~oneway]])
    # a few parallel edges that are longer (e.g. a service road beside the street)
    par = rng.random(len(du)) < 0.02
    du, dv = np.concatenate([du, du[par]]), np.concatenate([dv, dv[par]])
    dsec = np.concatenate([dsec, dsec[par] * 1.7])
    edges = {}
    for mode, kmh_m in (("walk", speeds.walk_kmh), ("ebike", speeds.ebike_kmh)):
        sec = length / kmh_m * 3.6
        edges[mode] = (np.concatenate([u, v]), np.concatenate([v, u]),
                       np.concatenate([sec, sec]))
    edges["drive"] = (du, dv, dsec)
    return RoadNetwork.from_edges(lon=lon, lat=lat, edges=edges, speeds=speeds)


def to_networkx(net: RoadNetwork, mode: str) -> nx.MultiDiGraph:
    """The mode's edges as an osmnx-style MultiDiGraph (parallel edges kept), weight 'time'."""
    u, v, sec, length = net.edges(mode)
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(net.n_nodes))
    G.add_edges_from((int(a), int(b), {"time": float(s), "length": float(m)})
                     for a, b, s, m in zip(u, v, sec, length, strict=True))
    return G


def province(n_counties: int, nodes_per_county: int, points_per_county: int, *, seed: int = 0,
             spacing_m: float = 250.0, lon0: float = 103.0, lat0: float = 30.0) -> Region:
    """A synthetic province: ``n_counties`` counties on a square of jittered-grid networks.

    Each county is a block of about ``nodes_per_county`` nodes with ~6% of its streets missing;
    neighbouring counties are joined only by inter-county roads (every 10th row and column,
    faster to drive). Each county has nine townships (areas, field ``county``): the central one
    is its urban core (half the county's demand points, four outlets), the eight around it
    rural, with villages (clusters of demand points) and one outlet in most of them. Built in
    memory; nothing is written.
    """
    rng = np.random.default_rng(seed)
    k = int(np.ceil(np.sqrt(n_counties)))  # counties per side
    cs = max(9, int(np.ceil(np.sqrt(nodes_per_county))))  # nodes per county side
    side = k * cs
    gi, gj = np.divmod(np.arange(side * side), side)
    x = gj * spacing_m + rng.normal(0, spacing_m * 0.15, side * side)
    y = gi * spacing_m + rng.normal(0, spacing_m * 0.15, side * side)
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    county_of = (gi // cs) * k + (gj // cs)
    cross = county_of[u] != county_of[v]
    # across a county line only the inter-county roads (every 10th row and column) go on
    road = ((gi[u] == gi[v]) & (gi[u] % 10 == 5)) | ((gj[u] == gj[v]) & (gj[u] % 10 == 5))
    keep = np.where(cross, road, rng.random(len(u)) > 0.06)
    exists = county_of < n_counties
    keep &= exists[u] & exists[v]
    u, v = u[keep], v[keep]
    del keep, cross, road, idx
    fast = (gi[u] % 10 == 5) & (gi[v] % 10 == 5) | (gj[u] % 10 == 5) & (gj[v] % 10 == 5)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    m_lat = 111_320.0
    m_lon = m_lat * np.cos(np.radians(lat0))
    # only the nodes of existing counties (a non-square count leaves empty slots in the grid)
    new_id = np.cumsum(exists) - 1
    lon, lat = lon0 + x[exists] / m_lon, lat0 + y[exists] / m_lat
    del gi, gj, county_of, x, y
    uu, vv = new_id[np.concatenate([u, v])], new_id[np.concatenate([v, u])]  # shared by modes
    del u, v, new_id
    speeds = Speeds()
    edges = {}
    for mode, kmh in (("walk", speeds.walk_kmh), ("ebike", speeds.ebike_kmh),
                      ("drive", np.where(fast, 60.0, 30.0))):
        sec = length / kmh * 3.6
        edges[mode] = (uu, vv, np.concatenate([sec, sec]))
    del fast, length
    net = RoadNetwork.from_edges(lon=lon, lat=lat, edges=edges, speeds=speeds)
    del edges, uu, vv
    # townships: a 3 x 3 split of each county, the centre one urban
    t = cs * spacing_m / 3
    rows, area_geom = [], []
    dx: list[np.ndarray] = []
    dy: list[np.ndarray] = []
    dpop: list[np.ndarray] = []
    dcount: list[int] = []
    outs: list[tuple] = []
    for c in range(n_counties):
        cy, cx = divmod(c, k)
        for a in range(9):
            ai, aj = divmod(a, 3)
            x0, y0 = cx * cs * spacing_m + aj * t, cy * cs * spacing_m + ai * t
            urban = a == 4
            aid = f"C{c:03d}-T{a}"
            rows.append((aid, f"county {c} township {a}", urban, f"C{c:03d}"))
            area_geom.append((x0, y0, x0 + t, y0 + t))
            n = points_per_county // 2 if urban else points_per_county // 16
            if urban:
                px, py = x0 + rng.random(n) * t, y0 + rng.random(n) * t
                for o in range(4):
                    outs.append((f"O{c:03d}-U{o}", x0 + rng.random() * t, y0 + rng.random() * t))
            else:
                villages = rng.random((3, 2)) * t * 0.8 + t * 0.1
                pick = rng.integers(0, 3, n)
                px = x0 + villages[pick, 0] + rng.normal(0, 150, n)
                py = y0 + villages[pick, 1] + rng.normal(0, 150, n)
                if rng.random() < 0.7:
                    outs.append((f"O{c:03d}-R{a}", x0 + villages[0, 0], y0 + villages[0, 1]))
            dpop.append(rng.integers(20, 400 if urban else 120, n))
            dx.append(px)
            dy.append(py)
            dcount.append(n)

    def to_ll(xx: object, yy: object) -> tuple[np.ndarray, np.ndarray]:
        return lon0 + np.asarray(xx) / m_lon, lat0 + np.asarray(yy) / m_lat

    # one array per column (a province has millions of points: no Python row per point)
    dlon, dlat = to_ll(np.concatenate(dx), np.concatenate(dy))
    n_pts = len(dlon)
    area_of = pd.Categorical.from_codes(np.repeat(np.arange(len(rows)), dcount),
                                        categories=[r[0] for r in rows])
    ids = pd.Series(np.arange(n_pts)).astype(str).str.zfill(7).radd("D").to_numpy(dtype=object)
    demand = gpd.GeoDataFrame({"id": ids, "lon": dlon, "lat": dlat,
                               "population": np.concatenate(dpop).astype(float),
                               "area_id": np.asarray(area_of, dtype=object)},
                              geometry=gpd.points_from_xy(dlon, dlat), crs="EPSG:4326")
    o = pd.DataFrame(outs, columns=["id", "x", "y"])
    olon, olat = to_ll(o["x"], o["y"])
    outlets = gpd.GeoDataFrame({"id": o["id"], "name": o["id"], "kind": "service_hall",
                                "lon": olon, "lat": olat},
                               geometry=gpd.points_from_xy(olon, olat), crs="EPSG:4326")
    b = np.array(area_geom)
    (west, south), (east, north) = to_ll(b[:, 0], b[:, 1]), to_ll(b[:, 2], b[:, 3])
    boxes = shapely.box(west, south, east, north)
    areas = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["id", "name", "urban", "county"]),
                             geometry=boxes, crs="EPSG:4326")
    return Region(path=Path("synthetic-province"), settings=RegionSettings(name="province"),
                  network=net, outlets=outlets, demand=demand, areas=areas, files={})


def province_candidates(region: Region, per_county: int, *, seed: int = 0,
                        by: str = "county") -> gpd.GeoDataFrame:
    """``per_county`` candidate sites at random places inside each county's areas.

    Columns as :func:`gis.region.load_outlets` reads them (``id, name, kind, lon, lat``);
    ids ``K<county>-<n>``. In memory; nothing is written.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for county, g in region.areas.groupby(by, sort=True):
        b = g.total_bounds
        lon = b[0] + rng.random(per_county) * (b[2] - b[0])
        lat = b[1] + rng.random(per_county) * (b[3] - b[1])
        for n in range(per_county):
            rows.append((f"K{county}-{n}", f"candidate {county} {n}", lon[n], lat[n]))
    df = pd.DataFrame(rows, columns=["id", "name", "lon", "lat"])
    return gpd.GeoDataFrame(df.assign(kind="carrier_shop"),
                            geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
