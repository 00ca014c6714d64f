"""Siting benchmarks: MCLP vs PySAL spopt, cover sets vs plain chunked scipy, a big budget run.

Usage::

    python benchmarks/bench_siting.py            # full sizes (a few minutes)
    python benchmarks/bench_siting.py --quick    # tiny sizes, seconds (run by the tests)
    python benchmarks/bench_siting.py --part mclp --seeds 0,1,2

(a) ``mclp``: maximal coverage on clustered instances, 2,000 demand × 300 candidates, p = 25,
    radius giving ~12 candidates per demand point; ours (OR-Tools SCIP, model build included)
    and spopt ``MCLP`` + pulp CBC side by side. Targets: proven optimal < 10 s, build < 0.5 s.
(b) ``coversets``: 1,000 candidates × 30 minutes (e-bike) on a ~100k-node synthetic grid,
    20,000 demand points off the network (access/egress legs); ours vs plain chunked scipy
    Dijkstra with a fixed 30-minute limit (one process). Target: >= 1.5× faster, same pairs.
(c) ``big``: 20,000 demand × 2,000 candidates, per-site costs, a budget; gap <= 0.1% < 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis.siting import SitingProblem, SolveParams, solve_mclp  # noqa: E402
from gis.siting.coversets import cover_matrix_plain, network_cover_sets  # noqa: E402
from gis.siting.instances import clustered_instance  # noqa: E402

SIZES = {
    "full": {"mclp": (2000, 300, 25), "coversets": (100_000, 1000, 20_000, 30.0),
             "big": (20_000, 2000, 100.0)},
    "quick": {"mclp": (200, 40, 5), "coversets": (4_000, 40, 500, 10.0),
              "big": (1000, 100, 10.0)},
}


def load() -> str:
    """The 1-minute load average and the CPU count, for the record."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (the worker pool)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def bench_mclp(n_d: int, n_c: int, p: int, seed: int, spopt: bool,
               spopt_limit: float = 300.0) -> dict:
    """(a) MCLP: ours with model build, then spopt + CBC on the same instance."""
    inst = clustered_instance(n_d, n_c, seed=seed)
    t0 = time.perf_counter()
    res = solve_mclp(SitingProblem(inst.cover, inst.weights), p=p,
                     params=SolveParams(solver="scip", time_limit_s=120, seed=0))
    ours = time.perf_counter() - t0
    row = {"part": "mclp", "seed": seed, "size": f"{n_d}x{n_c} p={p}",
           "per_demand": round(inst.cover.nnz / n_d, 1), "ours_s": round(ours, 2),
           "build_s": round(res.build_s, 3), "status": res.status, "objective": res.objective,
           "gap": res.gap}
    if spopt:
        import pulp
        from spopt.locate import MCLP

        t0 = time.perf_counter()
        diff = inst.demand_xy[:, None, :] - inst.candidate_xy[None, :, :]
        dist = np.hypot(diff[..., 0], diff[..., 1])
        m = MCLP.from_cost_matrix(dist, inst.weights.astype(float), inst.radius, p)
        m = m.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=spopt_limit))
        row["spopt_s"] = round(time.perf_counter() - t0, 2)
        row["spopt_stopped_by_limit"] = row["spopt_s"] >= spopt_limit
        row["spopt_objective"] = pulp.value(m.problem.objective)
        row["same_objective"] = abs(row["spopt_objective"] - res.objective) < 1e-6
    return row


def bench_coversets(n_nodes: int, n_c: int, n_d: int, minutes: float, seed: int) -> dict:
    """(b) Cover sets: ours (all cores, pruned) vs plain chunked scipy, same pairs."""
    from gis.synthetic import grid_network

    net = grid_network(n_nodes, seed=seed)
    rng = np.random.default_rng(seed)
    mode = "ebike"
    nodes = np.flatnonzero(net.nodes_in(mode))
    jitter = 0.0004  # ~40 m off the network: real access and egress legs
    dk = rng.choice(nodes, n_d)
    dlon = net.lon[dk] + rng.uniform(-jitter, jitter, n_d)
    dlat = net.lat[dk] + rng.uniform(-jitter, jitter, n_d)
    ck = rng.choice(nodes, n_c, replace=False)
    clon = net.lon[ck] + rng.uniform(-jitter, jitter, n_c)
    clat = net.lat[ck] + rng.uniform(-jitter, jitter, n_c)
    mins = np.full(n_d, minutes)
    # plain: snap, one fixed limit for every source, read every column, then apply the legs
    cpu0 = _cpu()
    t0 = time.perf_counter()
    ds = net.snap(dlon, dlat, mode=mode)
    cs = net.snap(clon, clat, mode=mode)
    m = cover_matrix_plain(net.graph_T(mode), cs.node, ds.node, minutes * 60.0).tocoo()
    total = m.data + ds.access_s[m.row] + cs.access_s[m.col]
    ok = np.round(total / 60.0, 2) <= minutes
    plain_pairs = set(zip(m.row[ok].tolist(), m.col[ok].tolist(), strict=True))
    plain = time.perf_counter() - t0
    plain_cpu = _cpu() - cpu0
    cpu0 = _cpu()
    t0 = time.perf_counter()
    cov = network_cover_sets(net, dlon, dlat, mins, np.full(n_d, mode, dtype=object), clon, clat)
    ours = time.perf_counter() - t0
    ours_cpu = _cpu() - cpu0
    c = cov.times.tocoo()
    same = set(zip(c.row.tolist(), c.col.tolist(), strict=True)) == plain_pairs
    t0 = time.perf_counter()
    network_cover_sets(net, dlon, dlat, mins, np.full(n_d, mode, dtype=object), clon, clat,
                       workers=1)
    ours1 = time.perf_counter() - t0
    return {"part": "coversets", "seed": seed, "size": f"{net.n_nodes} nodes, {n_c} cand, "
            f"{n_d} demand, {minutes:g} min", "plain_s": round(plain, 2),
            "ours_s": round(ours, 2), "ours_1proc_s": round(ours1, 2),
            "speedup": round(plain / ours, 2), "plain_cpu_s": round(plain_cpu, 2),
            "ours_cpu_s": round(ours_cpu, 2), "pairs": int(c.nnz), "same_pairs": same}


def bench_big(n_d: int, n_c: int, budget: float, seed: int) -> dict:
    """(c) Budget MCLP with per-site costs to a 0.1% gap."""
    inst = clustered_instance(n_d, n_c, seed=seed, n_clusters=60, side=150_000.0)
    t0 = time.perf_counter()
    res = solve_mclp(SitingProblem(inst.cover, inst.weights, inst.costs), budget=budget,
                     params=SolveParams(solver="scip", time_limit_s=120, rel_gap=1e-3))
    return {"part": "big", "seed": seed, "size": f"{n_d}x{n_c} budget={budget:g}",
            "ours_s": round(time.perf_counter() - t0, 2), "build_s": round(res.build_s, 2),
            "status": res.status, "gap": round(res.gap, 6), "cost": res.cost,
            "objective": res.objective, "stats": res.stats}


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the chosen parts and print one JSON line per result."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    ap.add_argument("--part", default="mclp,coversets,big")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--no-spopt", action="store_true", help="skip the spopt comparison")
    ap.add_argument("--spopt-limit", type=float, default=300.0,
                    help="seconds CBC may take for spopt (default 300)")
    args = ap.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "full"]
    rows = []
    print(f"# bench_siting {'quick' if args.quick else 'full'}; {load()}", flush=True)
    for seed in (int(s) for s in args.seeds.split(",")):
        for part in args.part.split(","):
            if part == "mclp":
                row = bench_mclp(*sizes["mclp"], seed, not args.no_spopt, args.spopt_limit)
            elif part == "coversets":
                row = bench_coversets(*sizes["coversets"], seed)
            elif part == "big":
                row = bench_big(*sizes["big"], seed)
            else:
                ap.error(f"unknown part {part!r}")
            row["load"] = load()
            print(json.dumps(row, ensure_ascii=False, default=str), flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()
