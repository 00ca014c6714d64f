"""Benchmark the routing core on Li & Lim / Solomon instances, side by side with PyVRP.

Usage::

    python benchmarks/bench_routing.py [DIR] [--instances lr101,lc101] [--limits 10,60]
    python benchmarks/bench_routing.py --quick
    python benchmarks/bench_routing.py --day [--time-limit 60]
    python benchmarks/bench_routing.py --day --region data/chengdu --errands 2000 --runners 150 \
        --time-limit 30      # the whole plan (matrices, solve, repair, checks) within the limit
    python benchmarks/bench_routing.py --day --region data/chengdu --errands 10000 --runners 600
                             # refused up front with the memory it would need
    python benchmarks/bench_routing.py --matrices --region data/chengdu --errands 2000
                             # the travel-time matrices: scipy per stop vs the compiled search

``DIR`` defaults to ``../shared/data/vrp`` relative to the repository. Vehicles and distances
are reported against the best-known solutions (``lilim/bks.csv``, Solomon ``.sol``).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from routing.problem import RoutingProblem, to_int_matrix  # noqa: E402
from routing.solver import Solution, SolveParams, solve  # noqa: E402
from routing.validate import validate_solution  # noqa: E402

SCALE = 1000  # instance distance units -> solver integers (once, here)
DEFAULT_DIR = ROOT.parent / "shared" / "data" / "vrp"
QUICK_DIR = ROOT / "benchmarks" / "instances"  # lc101 + bks.csv, shipped for --quick


@dataclass
class Instance:
    """A benchmark instance in plain arrays (float coordinates kept for exact distances)."""

    name: str
    kind: str  # "lilim" | "solomon"
    xy: np.ndarray
    demand: np.ndarray
    windows: np.ndarray
    service: np.ndarray
    pairs: list[tuple[int, int]]
    singles: list[int]
    n_vehicles: int
    capacity: int

    def distances(self) -> np.ndarray:
        """Euclidean distance matrix (floats)."""
        d = self.xy[:, None, :] - self.xy[None, :, :]
        return np.sqrt((d**2).sum(-1))

    def problem(self) -> RoutingProblem:
        """The instance as a RoutingProblem in integer units (distance x SCALE)."""
        dist = self.distances()
        if self.kind == "solomon":  # DIMACS convention: truncate to one decimal
            dist = np.floor(dist * 10) / 10
        m = to_int_matrix(dist, scale=SCALE)
        tasks = tuple((p, d) for p, d in self.pairs) + tuple((s,) for s in self.singles)
        v = self.n_vehicles
        return RoutingProblem(
            travel={"v": m},
            tasks=tasks,
            windows=(self.windows * SCALE).astype(np.int64),
            service=(self.service * SCALE).astype(np.int64),
            vehicle_mode=("v",) * v,
            vehicle_start=np.zeros(v, dtype=np.int64),
            vehicle_end=np.zeros(v, dtype=np.int64),
            vehicle_shift=np.tile((self.windows[0] * SCALE).astype(np.int64), (v, 1)),
            demand=self.demand.astype(np.int64),
            vehicle_capacity=np.full(v, self.capacity, dtype=np.int64),
        )

    def route_distance(self, routes: list[list[int]]) -> float:
        """Total distance of routes given as node lists (depot excluded)."""
        dist = self.distances()
        if self.kind == "solomon":
            dist = np.floor(dist * 10) / 10
        total = 0.0
        for r in routes:
            if r:
                path = [0, *r, 0]
                total += float(sum(dist[a, b] for a, b in zip(path, path[1:], strict=False)))
        return total


def read_lilim(path: Path) -> Instance:
    """Read a Li & Lim PDPTW file."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    v, cap, _speed = (int(float(x)) for x in lines[0][:3])
    rows = np.array([[float(x) for x in ln[:9]] for ln in lines[1:]])
    pairs = [(int(r[0]), int(r[8])) for r in rows if r[8] > 0]
    return Instance(path.stem, "lilim", rows[:, 1:3], rows[:, 3], rows[:, 4:6], rows[:, 6],
                    pairs, [], v, cap)


def read_solomon(path: Path) -> Instance:
    """Read a Solomon VRPTW file."""
    lines = path.read_text().splitlines()
    v, cap = (int(x) for x in lines[4].split()[:2])
    rows = np.array([[float(x) for x in ln.split()] for ln in lines[9:] if ln.strip()])
    singles = [int(r[0]) for r in rows[1:]]
    return Instance(path.stem, "solomon", rows[:, 1:3], rows[:, 3], rows[:, 4:6], rows[:, 6],
                    [], singles, v, cap)


def best_known(folder: Path, inst: Instance) -> tuple[int, float]:
    """Best-known (vehicles, distance) for an instance."""
    if inst.kind == "lilim":
        with open(folder / "lilim" / "bks.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["instance"].lower() == inst.name.lower():
                    return int(row["routes"]), float(row["distance"])
        raise KeyError(inst.name)
    text = (folder / "solomon" / f"{inst.name}.sol").read_text()
    routes = sum(1 for ln in text.splitlines() if ln.startswith("Route"))
    cost = float(text.split("Cost")[1].split()[0])
    return routes, cost


def load(folder: Path, name: str) -> Instance:
    """Find an instance by name in the folder tree."""
    for sub in ("lilim/100", "lilim/200", "solomon"):
        for ext in (".txt",):
            p = folder / sub / f"{name}{ext}"
            if p.exists():
                return read_lilim(p) if sub.startswith("lilim") else read_solomon(p)
    raise FileNotFoundError(f"instance {name} not found under {folder}")


def run_ours(inst: Instance, limit: float, workers: int,
             fleet: str = "ges") -> tuple[int, float, bool, Solution]:
    """Solve with our OR-Tools model; returns vehicles, distance, validity and the solution."""
    prob = inst.problem()
    sol = solve(prob, SolveParams(time_limit_s=limit, minimize_vehicles=True, workers=workers,
                                  fleet=fleet))
    report = validate_solution(prob, sol)
    ok = report.ok and not sol.dropped
    return sol.n_used, inst.route_distance([list(r) for r in sol.routes if r]), ok, sol


def run_pyvrp(inst: Instance, limit: float, seed: int = 1) -> tuple[int, float, bool]:
    """Solve with PyVRP (benchmark-only dependency); distance objective, same integer scale."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    m = pyvrp.Model()
    locs = [m.add_location(x=float(x), y=float(y)) for x, y in inst.xy]
    w = (inst.windows * SCALE).astype(np.int64)
    svc = (inst.service * SCALE).astype(np.int64)
    depot = m.add_depot(locs[0], tw_early=int(w[0, 0]), tw_late=int(w[0, 1]))
    m.add_vehicle_type(num_available=inst.n_vehicles, capacity=inst.capacity,
                       start_depot=depot, end_depot=depot,
                       tw_early=int(w[0, 0]), tw_late=int(w[0, 1]))
    for i in inst.singles:
        m.add_client(locs[i], delivery=[int(inst.demand[i])], service_duration=int(svc[i]),
                     tw_early=int(w[i, 0]), tw_late=int(w[i, 1]))
    for p, d in inst.pairs:
        m.add_shipment(locs[p], locs[d], pickup_tw_early=int(w[p, 0]),
                       pickup_tw_late=int(w[p, 1]), pickup_service_duration=int(svc[p]),
                       delivery_tw_early=int(w[d, 0]), delivery_tw_late=int(w[d, 1]),
                       delivery_service_duration=int(svc[d]), amount=[int(inst.demand[p])])
    scaled = inst.problem().travel["v"]
    n = len(locs)
    for a in range(n):
        for b in range(n):
            if a != b:
                m.add_edge(locs[a], locs[b], distance=int(scaled[a, b]),
                           duration=int(scaled[a, b]))
    res = m.solve(stop=MaxRuntime(limit), seed=seed, display=False)
    best = res.best
    return best.num_routes(), best.distance() / SCALE, bool(best.is_feasible())


def gap(dist: float, bks: float) -> float:
    """Distance gap in percent."""
    return 100.0 * (dist - bks) / bks


def _one(folder: Path, name: str, limit: float, fleet: str, workers: int,
         pyvrp: bool) -> dict:
    """One instance at one limit with one variant (and PyVRP if asked): a result row."""
    from routing.ges import warm_up

    warm_up()  # compiled kernels loaded (or compiled once per machine) before the clock
    inst = load(folder, name)
    bv, bd = best_known(folder, inst)
    t0 = time.monotonic()
    v, d, ok, _ = run_ours(inst, limit, workers, fleet)
    row = {"instance": name, "limit": limit, "bks_v": bv, "bks_d": bd, "v": v, "d": d,
           "ok": ok, "gap": gap(d, bd), "t": time.monotonic() - t0, "fleet": fleet}
    if pyvrp:
        pv, pd_, pok = run_pyvrp(inst, limit)
        row.update(pv=pv, pd=pd_, pok=pok, pgap=gap(pd_, bd))
    return row


def _one_args(args: tuple) -> dict:
    return _one(*args)


def bench_instances(folder: Path, names: list[str], limits: list[float], *, workers: int,
                    pyvrp: bool, fleets: tuple[str, ...] = ("ges",), jobs: int = 1,
                    csv_path: Path | None = None) -> list[dict]:
    """Run both solvers on each instance at each limit; print a markdown row per run.

    With several ``fleets`` (route-elimination variants, ``SolveParams.fleet``) ours runs once
    per variant and the row names the variant. ``jobs`` runs that many instances at once, each
    in its own process (each search single-threaded with ``workers=1``): on a machine with
    ``jobs`` idle cores the per-instance figures are those of a one-core run.
    """
    import concurrent.futures as cf
    import multiprocessing as mp

    print("| instance | limit s | BKS veh / dist | ours veh / dist / gap "
          "| PyVRP veh / dist / gap |")
    print("| --- | --- | --- | --- | --- |")
    todo = [(folder, name, limit, fleet, workers, pyvrp and fleet == fleets[0])
            for name in names for limit in limits for fleet in fleets]

    def show(row: dict) -> None:
        label = row["instance"] if len(fleets) == 1 else f"{row['instance']} [{row['fleet']}]"
        pv_txt = "-"
        if "pv" in row:
            pv_txt = (f"{row['pv']} / {row['pd']:.1f} / {row['pgap']:+.1f}%"
                      + ("" if row["pok"] else " INFEASIBLE"))
        ours_txt = (f"{row['v']} / {row['d']:.1f} / {row['gap']:+.1f}%"
                    + ("" if row["ok"] else " INVALID"))
        print(f"| {label} | {row['limit']:g} | {row['bks_v']} / {row['bks_d']:.1f} | "
              f"{ours_txt} | {pv_txt} |", flush=True)

    if jobs <= 1:
        rows = []
        for args in todo:
            rows.append(_one(*args))
            show(rows[-1])
    else:
        with cf.ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as ex:
            rows = []
            for row in ex.map(_one_args, todo):
                rows.append(row)
                show(row)
    if csv_path is not None:
        keys = sorted({k for r in rows for k in r})
        with open(csv_path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)
    for limit, fleet in ((lim, f) for lim in limits for f in fleets):
        sel = [r for r in rows if r["limit"] == limit and r["fleet"] == fleet]
        if not sel:
            continue
        mean = sum(r["gap"] for r in sel) / len(sel)
        extra = sum(r["v"] - r["bks_v"] for r in sel)
        at_bks = [r["gap"] for r in sel if r["v"] == r["bks_v"]]
        at_txt = (f"{sum(at_bks) / len(at_bks):+.2f}% over the {len(at_bks)} at best-known "
                  "vehicles" if at_bks else "none at best-known vehicles")
        line = (f"limit {limit:g} s, fleet {fleet}: ours mean gap {mean:+.2f}% ({at_txt}), "
                f"extra vehicles {extra} on {sum(r['v'] > r['bks_v'] for r in sel)} "
                f"instances, all valid {all(r['ok'] for r in sel)}")
        if pyvrp and fleet == fleets[0]:
            pm = sum(r["pgap"] for r in sel) / len(sel)
            pe = sum(r["pv"] - r["bks_v"] for r in sel)
            line += f"; PyVRP mean gap {pm:+.2f}%, extra vehicles {pe}"
        print(line)
    return rows


def bench_day(limit: float, *, n_errands: int = 400, n_runners: int = 40, seed: int = 0,
              region: Path | None = None) -> dict:
    """A realistic day: demo errands/runners, mixed modes, on the region's network if given
    (else a synthetic haversine matrix over a 15 km square)."""
    import datetime as dt
    from functools import partial

    import pandas as pd

    from routing import (
        demo_errands,
        demo_runners,
        errands_from_frame,
        haversine_matrices,
        network_matrices,
        plan_day,
        runners_from_frame,
    )
    from routing.reasons import AT_MOST, BOOKED, TIME_LIMIT

    t0 = time.monotonic()
    if region is not None:
        from gis.region import load_region

        reg = load_region(region)
        outlets = reg.outlets[["id", "name", "kind", "lon", "lat"]].copy()
        demand = reg.demand[["id", "lon", "lat", "population"]]
        matrices = partial(network_matrices, reg.network)
        name = reg.name
    else:
        rng = np.random.default_rng(seed)
        outlets = pd.DataFrame({"id": [f"O{i}" for i in range(20)],
                                "name": [f"便民服务站{i}" for i in range(20)], "kind": "hall",
                                "lon": 104.04 + rng.random(20) * 0.15,
                                "lat": 30.64 + rng.random(20) * 0.13})
        demand = pd.DataFrame({"id": [f"D{i}" for i in range(600)],
                               "lon": 104.04 + rng.random(600) * 0.15,
                               "lat": 30.64 + rng.random(600) * 0.13,
                               "population": rng.integers(50, 3000, 600)})
        matrices = haversine_matrices
        name = "synthetic"
    outlets["id"] = outlets["id"].astype(str)
    errs = errands_from_frame(demo_errands(outlets, demand, n=n_errands, seed=seed),
                              hall_ids=outlets["id"])
    runs = runners_from_frame(demo_runners(outlets, n=n_runners, seed=seed),
                              base_ids=outlets["id"])
    from gis.errors import InputError
    from routing.deadline import Deadline

    t1 = time.monotonic()
    try:
        plan = plan_day(errs, runs, outlets, matrices=matrices, date=dt.date(2026, 11, 26),
                        region=name, deadline=Deadline.after(limit))
    except InputError as exc:  # too large for this machine: refused up front
        refused_s = time.monotonic() - t1
        print(f"day ({name}): {len(errs)} errands, {len(runs)} runners: refused after "
              f"{refused_s:.2f} s: {exc}")
        return {"refused": str(exc), "refused_s": refused_s, "valid": True}
    plan_s = time.monotonic() - t1
    total = time.monotonic() - t0
    booked = sum(1 for r in plan.reasons.values() if r.basis == BOOKED)
    at_most = sum(1 for r in plan.reasons.values() if r.basis == AT_MOST)
    print(f"day ({name}): {len(errs)} errands, {len(runs)} runners, limit {limit:g} s, "
          f"setup {t1 - t0:.1f} s, plan {plan_s:.1f} s (overhead {plan_s - limit:+.1f} s), "
          f"total {total:.1f} s; phases {plan.meta}")
    print(plan.summary())
    untried = sum(1 for r in plan.reasons.values() if r.basis == TIME_LIMIT)
    print(f"left out although a runner could do them alone: {booked} (fully booked), "
          f"{at_most} (every such runner at its most errands); {untried} not tried by the "
          f"time limit")
    return {"served": plan.n_served, "dropped": plan.dropped, "booked": booked, "total_s": total,
            "plan_s": plan_s, "valid": plan.check.ok}


def bench_matrices(region: Path, *, n_errands: int = 2000, seed: int = 0) -> float:
    """Old (scipy Dijkstra from every distinct node, float) vs new matrices, same process.

    Returns the ratio of the old wall time to the new one (CPU ratios printed as well).
    """
    from scipy.sparse.csgraph import dijkstra

    from gis.region import load_region
    from routing import demo_errands, errands_from_frame, network_matrices
    from routing.build import build_day_problem

    reg = load_region(region)
    outlets = reg.outlets[["id", "name", "kind", "lon", "lat"]].copy()
    outlets["id"] = outlets["id"].astype(str)
    errs = errands_from_frame(demo_errands(outlets, reg.demand, n=n_errands, seed=seed),
                              hall_ids=outlets["id"])
    seen: dict = {}

    def grab(lonlat: np.ndarray, modes: list[str]) -> dict:
        seen.update(lonlat=lonlat, modes=modes)
        raise StopIteration  # only the stops are wanted

    from routing import demo_runners, runners_from_frame
    runs = runners_from_frame(demo_runners(outlets, n=10, seed=seed, modes=reg.network.modes),
                              base_ids=outlets["id"])
    try:
        build_day_problem(errs, runs, outlets, grab)
    except StopIteration:
        pass
    net, pts, modes = reg.network, seen["lonlat"], list(reg.network.modes)
    network_matrices(net, pts[:20], modes)  # compiled code loaded before the clock

    def old() -> dict:
        out = {}
        for mode in modes:
            s = net.snap(pts[:, 0], pts[:, 1], mode=mode)
            uniq, inv = np.unique(s.node, return_inverse=True)
            core = dijkstra(net.graph(mode), directed=True, indices=uniq)[:, uniq][inv][:, inv]
            m = s.access_s[:, None] + core + s.access_s[None, :]
            np.fill_diagonal(m, 0.0)
            out[mode] = to_int_matrix(m, dtype=np.int32)
        return out

    w0, c0 = time.monotonic(), time.process_time()
    a = old()
    w1, c1 = time.monotonic(), time.process_time()
    b = network_matrices(net, pts, modes)
    w2, c2 = time.monotonic(), time.process_time()
    diff = max(int(np.abs(a[m].astype(np.int64) - b[m]).max()) for m in modes)
    ratio = (w1 - w0) / (w2 - w1)
    print(f"matrices ({reg.name}): {len(pts):,} stops, {len(modes)} modes: old {w1 - w0:.2f} s "
          f"wall / {c1 - c0:.2f} s CPU, new {w2 - w1:.2f} s wall / {c2 - c1:.2f} s CPU; "
          f"ratio {ratio:.2f} wall, {(c1 - c0) / (c2 - c1):.2f} CPU; largest difference "
          f"{diff} s (rounding each leg)")
    return ratio


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=None,
                    help=f"instances folder (default {DEFAULT_DIR}; --quick: {QUICK_DIR})")
    ap.add_argument("--instances", default="lr101,lr105,lc101,lrc101,lr201,lrc201,lr1_2_1")
    ap.add_argument("--limits", default="10,60")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-pyvrp", action="store_true")
    ap.add_argument("--fleet", default="ges",
                    help="route-elimination variants to run side by side, e.g. ges,pool "
                         "(SolveParams.fleet: ges, pool, classic, off)")
    ap.add_argument("--set", choices=("lilim100", "lilim200"), default=None,
                    help="every instance of a Li & Lim set instead of --instances")
    ap.add_argument("--jobs", type=int, default=1,
                    help="instances run at once, one process each (use at most the idle cores)")
    ap.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV")
    ap.add_argument("--quick", action="store_true", help="lc101 at 2 s (a smoke test)")
    ap.add_argument("--day", action="store_true", help="the realistic day instead")
    ap.add_argument("--matrices", action="store_true",
                    help="old vs new travel-time matrices on --region")
    ap.add_argument("--region", type=Path, default=None, help="region folder for --day")
    ap.add_argument("--time-limit", type=float, default=55.0, help="limit for --day")
    ap.add_argument("--errands", type=int, default=400, help="errands for --day")
    ap.add_argument("--runners", type=int, default=40, help="runners for --day")
    args = ap.parse_args(argv)
    if args.matrices:
        bench_matrices(args.region or ROOT / "data" / "chengdu", n_errands=args.errands)
        return 0
    if args.day:
        res = bench_day(args.time_limit, region=args.region, n_errands=args.errands,
                        n_runners=args.runners)
        return 0 if res["valid"] else 1
    if args.quick:
        rows = bench_instances(args.folder or QUICK_DIR, ["lc101"], [2.0], workers=1,
                               pyvrp=not args.no_pyvrp)
        return 0 if all(r["ok"] for r in rows) else 1
    folder = args.folder or DEFAULT_DIR
    names = [x.strip() for x in args.instances.split(",") if x.strip()]
    if args.set:
        sub = folder / "lilim" / args.set.removeprefix("lilim")
        names = sorted(p.stem for p in sub.glob("*.txt"))
        if not names:
            print(f"bench_routing: no instances in {sub} (give --folder)", file=sys.stderr)
            return 2
    limits = [float(x) for x in args.limits.split(",")]
    fleets = tuple(x.strip() for x in args.fleet.split(",") if x.strip())
    rows = bench_instances(folder, names, limits, workers=args.workers,
                           pyvrp=not args.no_pyvrp, fleets=fleets, jobs=args.jobs,
                           csv_path=args.csv)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
