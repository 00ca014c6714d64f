"""Route minimisation by guided ejection search, between OR-Tools' first plan and its distance search.

OR-Tools finds the first plan and, afterwards, shortens the routes with the fleet fixed; in
between, this stage removes routes (the kernels are in :mod:`routing._ges`, with the
algorithm's references). Its loop:

1. complete the plan: tasks a first plan left out (a required task OR-Tools could not place in
   its share) go to the pool and are inserted with every vehicle available;
2. remove one route (chosen at random among the used ones), put its tasks in the pool, and run
   the pool with that vehicle switched off until the pool is empty (accept: one vehicle fewer)
   or the time is spent (the last complete plan is returned);
3. stop at the lower bound on vehicles (:func:`routing.fleet.fleet_lower_bound`).

Every plan the stage holds is feasible (every insertion is checked), so whatever the clock cuts,
the answer is a complete, valid plan; the independent check still runs on it downstream.
Vehicles with a break are not modelled here: :func:`applicable` says so and the solver keeps
the OR-Tools ejection stage (:mod:`routing.fleet`) for such problems. With a fixed ``seed`` and
a step budget that binds before the clock (``max_steps``), the result is repeatable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from . import _ges
from .fleet import fleet_lower_bound
from .problem import UNREACHABLE, RoutingProblem
from .solver import Solution

__all__ = ["GesStats", "applicable", "minimise_routes"]

log = logging.getLogger(__name__)

#: Largest number of tasks ejected at once, and random relocations after each ejection.
KMAX, N_PERTURB = 2, 50
_BIG = np.int64(1) << 40  # an unreachable leg: later than any window


@dataclass
class GesStats:
    """What the stage did.

    Attributes
    ----------
    start_vehicles, end_vehicles
        Vehicles of the plan given and of the plan returned.
    completed
        Tasks the first plan left out that the stage placed.
    steps
        Pool steps made (insertions, ejections).
    """

    start_vehicles: int = 0
    end_vehicles: int = 0
    completed: int = 0
    steps: int = 0


def applicable(problem: RoutingProblem) -> bool:
    """Whether the kernels model every rule of ``problem`` (no vehicle has a break)."""
    return problem.vehicle_breaks is None or all(b is None for b in problem.vehicle_breaks)


@dataclass
class _Data:
    """The problem as the kernels' arrays (int64)."""

    args: tuple
    tfirst: np.ndarray
    tsecond: np.ndarray
    cost: list[np.ndarray]
    vmode: np.ndarray


def _data(problem: RoutingProblem) -> _Data:
    modes = sorted(set(problem.vehicle_mode))
    mi = {m: i for i, m in enumerate(modes)}

    def stack(get: object) -> np.ndarray:
        mats = [np.asarray(get(m), dtype=np.int64) for m in modes]  # type: ignore[operator]
        return np.stack(mats)

    t3 = stack(lambda m: problem.travel[m])
    t3[t3 >= UNREACHABLE] = _BIG
    c3 = t3 if problem.cost is None else stack(problem.cost_matrix)
    n, v = problem.n_nodes, problem.n_vehicles
    big = np.int64(1) << 40
    vcap = (np.full(v, big) if problem.vehicle_capacity is None
            else np.asarray(problem.vehicle_capacity, dtype=np.int64))
    vmaxt = (np.full(v, big) if problem.vehicle_max_tasks is None
             else np.asarray(problem.vehicle_max_tasks, dtype=np.int64))
    opens = problem.node_open or {}
    has_open = np.zeros(n, dtype=np.bool_)
    optr = np.zeros(n + 1, dtype=np.int64)
    lo: list[int] = []
    hi: list[int] = []
    for x in range(n):
        if x in opens:
            has_open[x] = True
            for a, b in opens[x]:
                lo.append(int(a))
                hi.append(int(b))
        optr[x + 1] = len(lo)
    nt = len(problem.tasks)
    tfirst = np.array([t[0] for t in problem.tasks], dtype=np.int64)
    tsecond = np.array([t[1] if len(t) == 2 else -1 for t in problem.tasks], dtype=np.int64)
    allowed = np.ones((nt, v), dtype=np.bool_)
    if problem.task_vehicles is not None:
        for task, allow in enumerate(problem.task_vehicles):
            if allow is not None:
                allowed[task] = False
                allowed[task, np.asarray(allow, dtype=np.int64)] = True
    vmode = np.array([mi[m] for m in problem.vehicle_mode], dtype=np.int64)
    args = (t3, c3, vmode,
            np.asarray(problem.vehicle_start, dtype=np.int64),
            np.asarray(problem.vehicle_end, dtype=np.int64),
            np.asarray(problem.vehicle_shift, dtype=np.int64), vcap, vmaxt,
            np.asarray(problem.service, dtype=np.int64), problem.demand_or_zero(),
            np.ascontiguousarray(problem.windows[:, 0], dtype=np.int64),
            np.ascontiguousarray(problem.windows[:, 1], dtype=np.int64),
            has_open, optr, np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64),
            np.asarray(problem.node_task, dtype=np.int64), tfirst, tsecond, allowed)
    return _Data(args, tfirst, tsecond, [c3[i] for i in range(len(modes))], vmode)


class _State:
    """Routes as the kernels hold them (``R[k, :L[k]]``) plus per-route task counts."""

    def __init__(self, problem: RoutingProblem, routes: tuple[tuple[int, ...], ...]) -> None:
        v = problem.n_vehicles
        width = max(2, sum(len(t) for t in problem.tasks))
        self.R = np.zeros((v, width), dtype=np.int64)
        self.L = np.zeros(v, dtype=np.int64)
        self.ntask = np.zeros(v, dtype=np.int64)
        self.where = np.full(len(problem.tasks), -1, dtype=np.int64)
        for k, r in enumerate(routes):
            self.R[k, :len(r)] = r
            self.L[k] = len(r)
            for x in r:
                t = int(problem.node_task[x])
                if problem.tasks[t][0] == x:
                    self.ntask[k] += 1
                    self.where[t] = k

    def copy(self) -> tuple[np.ndarray, ...]:
        """A snapshot to go back to."""
        return self.R.copy(), self.L.copy(), self.ntask.copy(), self.where.copy()

    def restore(self, snap: tuple[np.ndarray, ...]) -> None:
        """Go back to a snapshot."""
        self.R, self.L, self.ntask, self.where = (a.copy() for a in snap)

    def routes(self) -> tuple[tuple[int, ...], ...]:
        """Per vehicle its stops."""
        return tuple(tuple(int(x) for x in self.R[k, :self.L[k]]) for k in range(len(self.L)))


def _cost(problem: RoutingProblem, routes: tuple[tuple[int, ...], ...]) -> int:
    total = 0
    for k, r in enumerate(routes):
        if r:
            cm = problem.cost_matrix(problem.vehicle_mode[k])
            path = np.array([int(problem.vehicle_start[k]), *r, int(problem.vehicle_end[k])])
            total += int(cm[path[:-1], path[1:]].sum())
    return total


def _run_pool(st: _State, data: _Data, active: np.ndarray, pool: list[int], pen: np.ndarray,
              t_end: float, stats: GesStats, max_steps: int | None) -> bool:
    """Run pool steps until the pool is empty (True) or time/steps are spent (False)."""
    ep = np.zeros(len(pen), dtype=np.int64)
    ep[:len(pool)] = pool
    ep_n = len(pool)
    chunk = 50
    while ep_n > 0:
        if time.monotonic() >= t_end or (max_steps is not None and stats.steps >= max_steps):
            return False
        n = chunk if max_steps is None else min(chunk, max_steps - stats.steps)
        t0 = time.monotonic()
        ep_n, made = _ges.ges_run(st.R, st.L, active, st.ntask, st.where, ep, ep_n, pen, n,
                                  KMAX, N_PERTURB, *data.args)
        stats.steps += int(made)
        took = time.monotonic() - t0
        # aim at ~50 ms between clock checks
        chunk = int(max(5, min(5000, chunk * (0.05 / took if took > 0 else 2.0))))
    return True


def minimise_routes(problem: RoutingProblem, start: Solution, seconds: float, *,
                    seed: int = 0, required: np.ndarray | None = None,
                    max_steps: int | None = None, stats: GesStats | None = None) -> Solution:
    """Fewer routes by guided ejection search, every task ``required`` served.

    Parameters
    ----------
    problem
        The routing problem (no breaks: see :func:`applicable`).
    start
        A feasible plan (tasks it leaves out that are ``required`` are placed first).
    seconds
        Wall-clock budget of the stage.
    seed
        Seed of the kernels' random choices (route to remove, perturbation).
    required
        Per task, whether the plan must serve it; default every task without a penalty
        (``problem.task_penalty is None``), else the tasks ``start`` serves.
    max_steps
        Stop after this many pool steps as well (repeatable results).
    stats
        Filled with what the stage did, if given.

    Returns
    -------
    Solution
        The complete plan with the fewest vehicles reached (``start`` when the first plan
        could not be completed in time), status ``"ges"``.
    """
    stats = stats if stats is not None else GesStats()
    t_end = time.monotonic() + seconds
    nt = len(problem.tasks)
    if required is None:
        required = np.ones(nt, dtype=bool)
        if problem.task_penalty is not None:
            required[list(start.dropped)] = False
    _ges.seed(seed)
    rng = np.random.default_rng(seed)
    data = _data(problem)
    st = _State(problem, start.routes)
    stats.start_vehicles = start.n_used
    active = np.ones(problem.n_vehicles, dtype=np.bool_)
    pen = np.ones(nt, dtype=np.int64)
    missing = [t for t in range(nt) if required[t] and st.where[t] < 0]
    if missing:
        if not _run_pool(st, data, active, missing, pen, t_end, stats, max_steps):
            log.info("ges: the first plan could not be completed (%d tasks left out)",
                     len(missing))
            stats.end_vehicles = start.n_used
            return start
        stats.completed = len(missing)
    lower = fleet_lower_bound(problem)
    best = st.copy()
    active = st.L > 0
    while int(active.sum()) > lower and time.monotonic() < t_end:
        used = np.flatnonzero(active)
        victim = int(used[rng.integers(len(used))])
        pool = [int(t) for t in np.flatnonzero(st.where == victim)]
        st.R[victim, :] = 0
        st.L[victim] = 0
        st.ntask[victim] = 0
        st.where[pool] = -1
        active[victim] = False
        pen[:] = 1
        if not _run_pool(st, data, active, pool, pen, t_end, stats, max_steps):
            break
        best = st.copy()
        log.info("ges: %d vehicles (%d steps)", int(active.sum()), stats.steps)
    st.restore(best)
    routes = st.routes()
    dropped = tuple(t for t in range(nt) if st.where[t] < 0)
    stats.end_vehicles = sum(1 for r in routes if r)
    return Solution(routes, dropped, _cost(problem, routes), "ges")
