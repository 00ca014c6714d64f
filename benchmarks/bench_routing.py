"""Benchmark the routing core on Li & Lim / Solomon instances, side by side with PyVRP.

Usage::

    python benchmarks/bench_routing.py [DIR] [--instances lr101,lc101] [--limits 10,60]
    python benchmarks/bench_routing.py --quick
    python benchmarks/bench_routing.py --day [--time-limit 60]

``DIR`` defaults to ``../shared/data/vrp`` relative to the repository. Vehicles and distances
are reported against the best-known solutions (``lilim/bks.csv``, Solomon ``.sol``).
"""

from __future__ import annotations

import csv
import sys
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


def run_ours(inst: Instance, limit: float, workers: int) -> tuple[int, float, bool, Solution]:
    """Solve with our OR-Tools model; returns vehicles, distance, validity and the solution."""
    prob = inst.problem()
    sol = solve(prob, SolveParams(time_limit_s=limit, minimize_vehicles=True, workers=workers))
    report = validate_solution(prob, sol)
    ok = report.ok and not sol.dropped
    return sol.n_used, inst.route_distance([list(r) for r in sol.routes if r]), ok, sol


def run_pyvrp(inst: Instance, limit: float, seed: int = 1) -> tuple[int, float, bool]:
    """Solve with PyVRP (benchmark-only dependency)."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    m = pyvrp.Model()
    depot = m.add_depot(x=float(inst.xy[0, 0]), y=float(inst.xy[0, 1]),
                        tw_early=int(inst.windows[0, 0] * SCALE),
                        tw_late=int(inst.windows[0, 1] * SCALE))
    m.add_vehicle_type(num_available=inst.n_vehicles, capacity=inst.capacity,
                       start_depot=depot, end_depot=depot,
                       tw_early=int(inst.windows[0, 0] * SCALE),
                       tw_late=int(inst.windows[0, 1] * SCALE))
    locs = {0: depot}
    for i in range(1, len(inst.xy)):
        locs[i] = m.add_depot(x=float(inst.xy[i, 0]), y=float(inst.xy[i, 1])) if False else None
    # PyVRP clients / shipments
    dist = inst.distances()
    if inst.kind == "solomon":
        dist = np.floor(dist * 10) / 10
    scaled = np.rint(dist * SCALE).astype(np.int64)
    if inst.kind == "solomon":
        nodes = {}
        for i in inst.singles:
            nodes[i] = m.add_client(x=float(inst.xy[i, 0]), y=float(inst.xy[i, 1]),
                                    delivery=[int(inst.demand[i])],
                                    service_duration=int(inst.service[i] * SCALE),
                                    tw_early=int(inst.windows[i, 0] * SCALE),
                                    tw_late=int(inst.windows[i, 1] * SCALE))
        order = [0, *inst.singles]
        objs = [depot] + [nodes[i] for i in inst.singles]
    else:
        locs = {0: depot}
        for i in range(1, len(inst.xy)):
            locs[i] = m.add_location(x=float(inst.xy[i, 0]), y=float(inst.xy[i, 1]))
        for p, d in inst.pairs:
            m.add_shipment(pickup=locs[p], delivery=locs[d], load=[int(inst.demand[p])],
                           pickup_service_duration=int(inst.service[p] * SCALE),
                           delivery_service_duration=int(inst.service[d] * SCALE),
                           pickup_tw_early=int(inst.windows[p, 0] * SCALE),
                           pickup_tw_late=int(inst.windows[p, 1] * SCALE),
                           delivery_tw_early=int(inst.windows[d, 0] * SCALE),
                           delivery_tw_late=int(inst.windows[d, 1] * SCALE))
        order = list(range(len(inst.xy)))
        objs = [locs[i] for i in order]
    for a, oa in zip(order, objs, strict=True):
        for b, ob in zip(order, objs, strict=True):
            if a != b:
                m.add_edge(oa, ob, distance=int(scaled[a, b]), duration=int(scaled[a, b]))
    res = m.solve(stop=MaxRuntime(limit), seed=seed, display=False)
    best = res.best
    routes = []
    for r in best.routes():
        routes.append([order[i] if inst.kind == "solomon" else i for i in r.visits()])
    return best.num_routes(), inst.route_distance(routes), bool(res.is_feasible())
