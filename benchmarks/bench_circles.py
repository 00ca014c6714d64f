"""Benchmark: service-circle polygons for many outlets on a synthetic road graph.

Times :func:`gis.circles.reach_polygons` (bounded scipy Dijkstra per outlet on the reversed CSR
graph, reached edges cut at the remaining time, raster + distance transform + contour) for
every outlet, and the merged circle of all outlets (:func:`gis.circles.reach_union`, one
multi-source Dijkstra). In the same run it times osmnx's isochrone recipe on a few outlets:
``networkx.ego_graph(G, node, radius, distance="time")`` on the osmnx-style MultiDiGraph, then
buffering the reached nodes and edges and unioning them (the recipe's ``make_iso_polys``).

    python benchmarks/bench_circles.py              # 100k nodes, 500 outlets, walk 15 + e-bike 30
    python benchmarks/bench_circles.py --quick      # 5k nodes, 20 outlets (test suite)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import emit  # noqa: E402
from gis.circles import CircleOptions, reach_polygons, reach_union  # noqa: E402
from gis.synthetic import grid_network, to_networkx  # noqa: E402


def ego_graph_recipe(G: nx.MultiDiGraph, xy: np.ndarray, node: int, budget_s: float,
                     buffer_m: float) -> shapely.Geometry:
    """osmnx's isochrone example: ego graph by time, buffer nodes and edges, union."""
    sub = nx.ego_graph(G, node, radius=budget_s, distance="time")
    nodes = np.fromiter(sub.nodes, int)
    pts = shapely.points(xy[nodes])
    edges = np.array([(a, b) for a, b in sub.edges()], dtype=int).reshape(-1, 2)
    lines = shapely.linestrings(np.stack([xy[edges[:, 0]], xy[edges[:, 1]]], axis=1))
    return shapely.union_all(np.concatenate([shapely.buffer(pts, buffer_m),
                                             shapely.buffer(lines, buffer_m)]))


def run(n_nodes: int, n_outlets: int, n_recipe: int, mode: str, minutes: float,
        seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    net = grid_network(n_nodes, seed=seed)
    mask = np.flatnonzero(net.nodes_in(mode))
    sources = rng.choice(mask, n_outlets, replace=False)
    egress = rng.uniform(0, 120, n_outlets)  # a 0-150 m walk from the road to the door
    budget = minutes * 60.0
    opts = CircleOptions()
    t, c = time.perf_counter(), time.process_time()
    polys = reach_polygons(net, sources, mode=mode, budget_s=budget, offsets_s=egress,
                           options=opts)
    ours_s, ours_cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    union = reach_union(net, sources, mode=mode, budget_s=budget, offsets_s=egress,
                        options=opts)
    union_s = time.perf_counter() - t
    # osmnx's ego-graph recipe on a few of the same outlets (reversed graph: travel *to* them)
    G = to_networkx(net, mode).reverse(copy=True)
    xy = np.column_stack([net.x, net.y])
    picks = range(min(n_recipe, n_outlets))
    t = time.perf_counter()
    ref = [ego_graph_recipe(G, xy, int(sources[i]), budget - egress[i], 25.0) for i in picks]
    recipe_s = (time.perf_counter() - t) / max(len(ref), 1)
    ours_area = np.array([polys[i].area for i in picks])
    ref_area = np.array([r.area for r in ref])
    overlap = np.array([polys[i].intersection(r).area / r.area for i, r in enumerate(ref)])
    nverts = shapely.get_num_coordinates(polys)
    return {
        "nodes": net.n_nodes, "edges": int(net.graph(mode).nnz), "outlets": n_outlets,
        "mode": mode, "minutes": minutes, "cell_m": opts.cell_m,
        "max_access_m": opts.max_access_m,
        "ours_total_s": round(ours_s, 2), "ours_cpu_s": round(ours_cpu, 2),
        "ours_per_outlet_s": round(ours_s / n_outlets, 4),
        "union_s": round(union_s, 2),
        "ego_graph_recipe_per_outlet_s": round(recipe_s, 3), "recipe_outlets": len(ref),
        "speedup_per_outlet": round(recipe_s / (ours_s / n_outlets), 1),
        "area_ratio_ours_to_recipe": round(float(np.median(ours_area / ref_area)), 2),
        "recipe_area_inside_ours": round(float(np.median(overlap)), 3),
        "median_vertices": int(np.median(nverts)),
        "union_area_km2": round(union.area / 1e6, 1),
        "all_valid": bool(shapely.is_valid(polys).all()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5k nodes, 20 outlets (test suite)")
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--outlets", type=int, default=500)
    ap.add_argument("--recipe", type=int, default=5, help="outlets for the osmnx recipe")
    ap.add_argument("--circles", default="walk:15,ebike:30", help="mode:minutes,...")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    if args.quick:
        args.nodes, args.outlets, args.recipe, args.circles = 5_000, 20, 2, "walk:15"
    specs = [spec.split(":") for spec in args.circles.split(",")]
    results = emit((run(args.nodes, args.outlets, args.recipe, mode, float(minutes))
                    for mode, minutes in specs), args.json)
    return 0 if all(r["all_valid"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
