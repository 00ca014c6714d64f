"""Benchmark: coverage of a whole service catalogue, and exact delegation, on a synthetic graph.

Coverage: 300 items over 15 distinct outlet sets (one of them every outlet), 2,000 outlets,
20,000 demand points on the 400k-node grid (``gis.synthetic``): ``gis.items.item_coverage``
(one search per distinct set; the all-outlet set reuses the plain coverage) against the naive
loop of one ``compute_coverage`` per item, in the same run, checked equal.

Delegation: the first 200 items, every outlet not handling an item may take it (2,000 eligible
outlets), budget 100 pairs; ``solve_delegation`` (exact) against the one-pair-at-a-time greedy.
The cover sets (door-to-door, each point's circle) are timed apart.

    python benchmarks/bench_items.py            # full size (a few minutes)
    python benchmarks/bench_items.py --quick    # 5k nodes, for the test suite
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import emit  # noqa: E402
from gis.coverage import compute_coverage  # noqa: E402
from gis.items import ItemTable, item_coverage  # noqa: E402
from gis.region import Circle, RegionSettings  # noqa: E402
from gis.siting.coversets import network_cover_sets  # noqa: E402
from gis.siting.delegation import (  # noqa: E402
    DelegationProblem,
    greedy_delegation,
    solve_delegation,
)
from gis.synthetic import grid_network  # noqa: E402


def run(n_nodes: int, n_outlets: int, n_demand: int, n_items: int, n_sets: int,
        deleg_items: int, budget: int, naive: bool, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    net = grid_network(n_nodes, seed=seed)
    load_s = time.perf_counter() - t0
    settings = RegionSettings(circles={"urban": Circle(15, "walk"), "rural": Circle(30, "ebike")})
    nodes = rng.choice(np.flatnonzero(net.nodes_in("walk")), n_outlets, replace=False)
    olon, olat = net.lon[nodes], net.lat[nodes]
    outlets = gpd.GeoDataFrame({"id": [f"O{i}" for i in range(n_outlets)], "lon": olon,
                                "lat": olat}, geometry=gpd.points_from_xy(olon, olat), crs=4326)
    dlon = rng.uniform(net.lon.min(), net.lon.max(), n_demand)
    dlat = rng.uniform(net.lat.min(), net.lat.max(), n_demand)
    side = 5
    ax = np.minimum(((dlon - dlon.min()) / np.ptp(dlon) * side).astype(int), side - 1)
    ay = np.minimum(((dlat - dlat.min()) / np.ptp(dlat) * side).astype(int), side - 1)
    demand = gpd.GeoDataFrame({"id": np.arange(n_demand).astype(str), "lon": dlon, "lat": dlat,
                               "population": rng.integers(10, 500, n_demand).astype(float),
                               "area_id": np.char.add("A", (ay * side + ax).astype(str))},
                              geometry=gpd.points_from_xy(dlon, dlat), crs=4326)
    areas = pd.DataFrame({"id": [f"A{i}" for i in range(side * side)],
                          "name": [f"A{i}" for i in range(side * side)], "urban": True})
    # distinct outlet sets: every outlet, then subsets of 5-60% (realistic overlap)
    sets = [np.ones(n_outlets, bool)] + [rng.random(n_outlets) < rng.uniform(0.05, 0.6)
                                         for _ in range(n_sets - 1)]
    which = rng.integers(0, n_sets, n_items)
    handles = np.column_stack([sets[s] for s in which])
    cat = pd.DataFrame({"id": [f"I{j:03d}" for j in range(n_items)],
                        "name": [f"事项{j}" for j in range(n_items)], "name_en": "",
                        "category": "", "delegable_to": [()] * n_items,
                        "weight": np.round(rng.lognormal(1.0, 1.0, n_items), 2),
                        "in_person": True, "runner_can_carry": False})
    table = ItemTable(cat, handles)
    # the plain coverage (also warms the compiled kernel), then the whole catalogue
    t0 = time.perf_counter()
    base = compute_coverage(net, settings, outlets, demand, areas)
    plain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ic = item_coverage(net, settings, outlets, demand, areas, table, base=base)
    items_s = time.perf_counter() - t0
    row = {"bench": "items", "n_nodes": net.n_nodes, "outlets": n_outlets, "demand": n_demand,
           "items": n_items, "distinct_sets": int(ic.total["n_sets"]),
           "searches": int(ic.total["searches"]), "network_build_s": round(load_s, 2),
           "plain_coverage_s": round(plain_s, 3), "items_coverage_s": round(items_s, 3)}
    if naive:
        t0 = time.perf_counter()
        cov = [compute_coverage(net, settings, outlets[handles[:, j]], demand, areas)
               .total["covered_population"] for j in range(n_items)]
        naive_s = time.perf_counter() - t0
        row.update(naive_loop_s=round(naive_s, 2), speedup=round(naive_s / items_s, 1),
                   agree_with_naive=bool(np.allclose(cov, ic.items["covered_population"])))
    # delegation
    di = np.arange(min(deleg_items, n_items))
    allowed = ~handles[:, di]
    t0 = time.perf_counter()
    pts = base.points
    cs = network_cover_sets(net, dlon, dlat, pts["threshold_minutes"].to_numpy(float),
                            pts["mode"].to_numpy(dtype=object), olon, olat,
                            max_snap_m=settings.max_snap_m, workers=1)
    cover_s = time.perf_counter() - t0
    p = DelegationProblem(cs.times.astype(bool), demand["population"].to_numpy(float),
                          cat["weight"].to_numpy(float)[di], ic.set_covered[:, ic.item_set[di]],
                          allowed, np.ones(n_outlets))
    res = solve_delegation(p, budget=float(budget), time_limit_s=60.0)
    t0 = time.perf_counter()
    _, g = greedy_delegation(p, budget=float(budget))
    greedy_s = time.perf_counter() - t0
    row.update(deleg_items=len(di), eligible_pairs=int(allowed.sum()), budget=budget,
               cover_sets_s=round(cover_s, 2), deleg_solve_s=round(res.seconds, 2),
               deleg_status=res.status, deleg_gap=round(res.gap, 6), deleg_method=res.method,
               deleg_groups=res.stats.get("groups"), deleg_mips=res.stats.get("mips"),
               deleg_value=round(res.value, 1), greedy_value=round(g, 1),
               greedy_s=round(greedy_s, 2),
               better_than_greedy_pct=round(100 * (res.value - g) / max(g, 1e-9), 3),
               not_worse_than_greedy=bool(res.value >= g - 1e-6))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes for the test suite")
    ap.add_argument("--json", type=Path, help="also write the rows to this file")
    a = ap.parse_args()
    if a.quick:
        cfg = dict(n_nodes=5000, n_outlets=60, n_demand=800, n_items=30, n_sets=6,
                   deleg_items=20, budget=10, naive=True)
    else:
        cfg = dict(n_nodes=400_000, n_outlets=2000, n_demand=20_000, n_items=300, n_sets=15,
                   deleg_items=200, budget=100, naive=True)
    emit([run(**cfg)], a.json)


if __name__ == "__main__":
    main()
