"""Benchmark: nearest-outlet times and the whole coverage query on synthetic road graphs.

Compares ``RoadNetwork.times_to_nearest`` (the compiled bucket-queue search of ``gis._sssp`` on
the reversed graph) with networkx ``multi_source_dijkstra_path_length`` on the same graph (an
osmnx-style MultiDiGraph) and with scipy's ``csgraph.dijkstra(min_only=True)`` on the same CSR
(what bianmin used before), in the same process, and times the whole coverage query including
snapping and the per-area tables. Outlets start at their own egress time in the whole query.

    python benchmarks/bench_coverage.py              # 100k and 400k nodes, 500 outlets
    python benchmarks/bench_coverage.py --quick      # 5k nodes, for the test suite
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import emit  # noqa: E402
from gis.coverage import compute_coverage  # noqa: E402
from gis.region import Circle, RegionSettings  # noqa: E402
from gis.synthetic import grid_network, to_networkx  # noqa: E402


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run(n_nodes: int, n_outlets: int, n_demand: int, n_areas_side: int, mode: str,
        repeat: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    net = grid_network(n_nodes, seed=seed)
    build_s = time.perf_counter() - t0
    mask = np.flatnonzero(net.nodes_in(mode))
    sources = rng.choice(mask, n_outlets, replace=False)
    # ours (the first call builds the padded adjacency and loads or compiles the kernel)
    t0 = time.perf_counter()
    net.times_to_nearest(sources, mode=mode)
    first_s = time.perf_counter() - t0
    ours_s, (ours, _) = best_of(lambda: net.times_to_nearest(sources, mode=mode), repeat)
    gT = net.graph_T(mode)
    scipy_s, sref = best_of(lambda: dijkstra(gT, directed=True, indices=sources, min_only=True),
                            repeat)
    # networkx on the osmnx-style MultiDiGraph, reversed (people travel to the outlet)
    G = to_networkx(net, mode).reverse(copy=True)
    nx_s, ref = best_of(lambda: nx.multi_source_dijkstra_path_length(
        G, set(sources.tolist()), weight="time"), 1)
    nodes = np.fromiter(ref.keys(), int)
    vals = np.fromiter(ref.values(), float)
    agree = bool(np.allclose(ours[nodes], np.maximum(vals, 0), atol=1e-6)
                 and np.isinf(np.delete(ours, nodes)).all()
                 and np.allclose(ours, sref, atol=1e-6, equal_nan=False))
    # the whole query: outlets + demand points + per-area tables
    lon0, lon1 = net.lon.min(), net.lon.max()
    lat0, lat1 = net.lat.min(), net.lat.max()
    olon, olat = net.lon[sources], net.lat[sources]
    outlets = gpd.GeoDataFrame({"id": [f"O{i}" for i in range(n_outlets)], "lon": olon,
                                "lat": olat}, geometry=gpd.points_from_xy(olon, olat), crs=4326)
    dlon = rng.uniform(lon0, lon1, n_demand)
    dlat = rng.uniform(lat0, lat1, n_demand)
    ax = np.minimum(((dlon - lon0) / (lon1 - lon0) * n_areas_side).astype(int), n_areas_side - 1)
    ay = np.minimum(((dlat - lat0) / (lat1 - lat0) * n_areas_side).astype(int), n_areas_side - 1)
    area_id = np.char.add("A", (ay * n_areas_side + ax).astype(str))
    demand = gpd.GeoDataFrame({"id": np.arange(n_demand).astype(str), "lon": dlon, "lat": dlat,
                               "population": rng.integers(10, 500, n_demand).astype(float),
                               "area_id": area_id},
                              geometry=gpd.points_from_xy(dlon, dlat), crs=4326)
    ids = np.unique(area_id)
    areas = pd.DataFrame({"id": ids, "name": ids, "urban": rng.random(len(ids)) < 0.5})
    settings = RegionSettings(circles={"urban": Circle(15, mode), "rural": Circle(30, mode)})
    query_s, res = best_of(lambda: compute_coverage(net, settings, outlets, demand, areas),
                           repeat)
    return {
        "nodes": net.n_nodes, "edges": int(net.graph(mode).nnz), "outlets": n_outlets,
        "demand_points": n_demand, "areas": len(ids), "mode": mode,
        "graph_build_s": round(build_s, 3),
        "first_call_s": round(first_s, 3),
        "ours_nearest_s": round(ours_s, 4), "networkx_nearest_s": round(nx_s, 3),
        "speedup": round(nx_s / ours_s, 1), "scipy_nearest_s": round(scipy_s, 4),
        "speedup_vs_scipy": round(scipy_s / ours_s, 2), "agree_with_networkx": agree,
        "whole_query_s": round(query_s, 4),
        "coverage_rate": round(res.total["coverage_rate"], 4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5k nodes, 50 outlets (test suite)")
    ap.add_argument("--sizes", default="100000,400000")
    ap.add_argument("--mode", default="drive", choices=["walk", "ebike", "drive"])
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.quick:
        configs = [(5_000, 50, 1_000, 4)]
    else:
        configs = [(int(s), 500, 20_000, 10) for s in args.sizes.split(",")]
    results = emit((run(n, k, d, side, args.mode, repeat=1 if args.quick else 5)
                    for n, k, d, side in configs), args.json)
    return 0 if all(r["agree_with_networkx"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
