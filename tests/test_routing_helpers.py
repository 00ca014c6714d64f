"""Tiny routing instances shared by the routing tests, and a check of the brute force itself.

Named ``test_routing_*`` to live among the routing tests; the other modules import from it.
"""

from __future__ import annotations

import itertools

import numpy as np

from routing.problem import Break, RoutingProblem
from routing.validate import schedule_route


def euclid(xy: np.ndarray) -> np.ndarray:
    """Rounded Euclidean integer matrix."""
    d = xy[:, None, :] - xy[None, :, :]
    return np.rint(np.sqrt((d**2).sum(-1))).astype(np.int64)


def tiny(xy, tasks, windows, *, service=None, vehicles=1, depot=0, shift=(0, 1000),
         allowed=None, penalty=None, max_tasks=None, breaks=None, modes=None,
         matrices=None) -> RoutingProblem:
    """A small problem: node ``depot`` is every vehicle's base."""
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    travel = matrices or {"walk": euclid(xy)}
    modes = modes or ("walk",) * vehicles
    return RoutingProblem(
        travel=travel,
        tasks=tuple(tuple(t) for t in tasks),
        windows=np.asarray(windows, dtype=np.int64).reshape(n, 2),
        service=np.zeros(n, dtype=np.int64) if service is None else np.asarray(service),
        vehicle_mode=tuple(modes),
        vehicle_start=np.full(vehicles, depot, dtype=np.int64),
        vehicle_end=np.full(vehicles, depot, dtype=np.int64),
        vehicle_shift=np.tile(np.asarray(shift, dtype=np.int64), (vehicles, 1)),
        vehicle_max_tasks=None if max_tasks is None else np.asarray(max_tasks),
        vehicle_breaks=None if breaks is None else tuple(breaks),
        task_vehicles=None if allowed is None else tuple(allowed),
        task_penalty=None if penalty is None else np.asarray(penalty, dtype=np.int64),
    )


def brute_force_single(p: RoutingProblem) -> int | None:
    """Optimal cost for one vehicle serving every task, by enumerating every order."""
    nodes = [x for t in p.tasks for x in t]
    best = None
    cm = p.cost_matrix(p.vehicle_mode[0])
    for perm in itertools.permutations(nodes):
        pos = {x: i for i, x in enumerate(perm)}
        if any(len(t) == 2 and pos[t[0]] > pos[t[1]] for t in p.tasks):
            continue
        if schedule_route(p, 0, perm)[3]:
            continue
        path = [int(p.vehicle_start[0]), *perm, int(p.vehicle_end[0])]
        c = sum(int(cm[a, b]) for a, b in zip(path, path[1:], strict=False))
        best = c if best is None or c < best else best
    return best


__all__ = ["Break", "euclid", "tiny", "brute_force_single", "synthetic_area"]


def test_brute_force_respects_pickup_order_and_windows() -> None:
    """On a line, the enumerated optimum is out-and-back; a window forces a detour."""
    xy = [[0, 0], [10, 0], [20, 0], [30, 0]]
    p = tiny(xy, [(2, 1), (3,)], np.tile([0, 1000], (4, 1)))
    assert brute_force_single(p) == 60  # e.g. 0-20-30-10-0: pickup at 20 before delivery at 10
    assert brute_force_single(tiny(xy, [(1, 2), (3,)], np.tile([0, 1000], (4, 1)))) == 60
    w = np.tile([0, 1000], (4, 1))
    w[1] = [0, 5]  # node 1 cannot be reached by time 5
    assert brute_force_single(tiny(xy, [(2, 1), (3,)], w)) is None


def synthetic_area(seed: int = 0, n_outlets: int = 4, n_demand: int = 80):
    """Outlets and demand points scattered over ~5 km of Chengdu (lon/lat)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    outlets = pd.DataFrame({
        "id": [f"O{i}" for i in range(n_outlets)],
        "name": [f"便民服务中心{i}" for i in range(n_outlets)], "kind": "service_hall",
        "lon": 104.06 + rng.random(n_outlets) * 0.05,
        "lat": 30.67 + rng.random(n_outlets) * 0.04})
    demand = pd.DataFrame({
        "id": [f"D{i}" for i in range(n_demand)],
        "lon": 104.06 + rng.random(n_demand) * 0.05, "lat": 30.67 + rng.random(n_demand) * 0.04,
        "population": rng.integers(10, 1000, n_demand)})
    return outlets, demand
