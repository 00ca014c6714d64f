"""Synthetic road networks for benchmarks and tests: a perturbed grid that looks like a city.

Nodes on a jittered grid with ~6% of streets missing, some one-way streets for driving, and
parallel edges (as osmnx MultiDiGraphs have) so the CSR build has to keep the shortest.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from .network import RoadNetwork, Speeds

__all__ = ["grid_network", "to_networkx"]


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
