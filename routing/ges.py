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

Then :func:`shorten_routes` shortens the routes on that fleet (no vehicle added): ruin and
recreate with simulated annealing — remove a task and up to ``q - 1`` related ones, or strings
of consecutive stops from its and its neighbours' routes (SISR-style), with ``q`` drawn up to
``REMOVE_SHARE`` of the tasks per route (between ``MIN_REMOVE`` and ``MAX_REMOVE``: long routes
need large ruins: on lr2_2_3 and lrc2_2_9, 50 tasks a route, 30 instead of 15 took the gaps of
15-s runs, two seeds each, from 4–33 % to 0–16 %), put them back at their cheapest feasible
places, and when one finds no place, put the rest through the same ejection pool for a few
steps (a bounded ejection chain: on a tight fleet nearly every plain reinsertion fails, and this
is what lets the search move; on four hard 200-task instances it brought the 8-s gap from ~11 %
to ~2.5 %). OR-Tools' guided local search gets the plan after that.

Every plan the stage holds is feasible (every insertion is checked), so whatever the clock cuts,
the answer is a valid plan — complete, unless the tasks a first plan left out could not all be
placed in time (then the rest are listed as dropped); the independent check still runs on it
downstream.
Vehicles with a break are not modelled here: :func:`applicable` says so and the solver keeps
the OR-Tools ejection stage (:mod:`routing.fleet`) for such problems. With a fixed ``seed`` and
a step budget that binds before the clock (``max_steps``), the result is repeatable.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from . import _ges, _ges_search
from .fleet import fleet_lower_bound
from .problem import UNREACHABLE, RoutingProblem
from .solver import Solution

__all__ = ["GesStats", "applicable", "minimise_routes", "shorten_routes", "warm_up"]

log = logging.getLogger(__name__)

#: Largest number of tasks ejected at once, and random relocations after each ejection.
KMAX, N_PERTURB = 2, 50
#: Pool steps of a route-removal attempt before a restart (the plan before it, a route drawn
#: again, fresh counters), doubling at each restart; 0: one attempt until the clock runs out. An
#: attempt's length is heavy-tailed (lrc2_2_4 from one plan: 1.7 s with one seed, 34 s with
#: another, none in 32 s in a third run): on 12 hard 200-task instances (32-s stages) restarts
#: at 500 or 2000 steps reached fewer vehicles (lr1_2_6 at 13, lr2_2_8 at 2, never before).
RESTART_STEPS = 1000
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
    restarts
        Route-removal attempts given up for a fresh one (``RESTART_STEPS``).
    """

    start_vehicles: int = 0
    end_vehicles: int = 0
    completed: int = 0
    steps: int = 0
    restarts: int = 0


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
        ep_n, made = _ges_search.ges_run(st.R, st.L, active, st.ntask, st.where, ep, ep_n, pen,
                                         n, KMAX, N_PERTURB, *data.args)
        stats.steps += int(made)
        chunk = _next_chunk(chunk, time.monotonic() - t0, 0.05, 5000)  # ~50 ms per check
    return True


def _next_chunk(n: int, took: float, aim_s: float, cap: int,
                left_s: float = float("inf")) -> int:
    """Steps in the next compiled chunk after ``n`` steps took ``took`` seconds.

    Sized to take about ``aim_s``, but at most 2× the last chunk (a step's cost varies: a
    chunk sized on cheap steps must not run on past the clock) and no more than ``left_s``
    seconds at the last chunk's rate; within [5, ``cap``].
    """
    grow = min(2.0, aim_s / took if took > 0 else 2.0)
    return int(max(5, min(cap, n * grow, left_s * n / max(took, 1e-6))))


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
        The complete plan with the fewest vehicles reached, status ``"ges"``; when the
        required tasks ``start`` left out could not all be placed in time, the plan as far as
        it got (status ``"ges-partial"``, the rest listed as dropped).
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
            # out of time: the plan as far as it got (every plan held is feasible)
            routes = st.routes()
            dropped = tuple(t for t in range(nt) if st.where[t] < 0)
            log.info("ges: the first plan could not be completed (%d of %d tasks left out)",
                     len(dropped), len(missing))
            stats.end_vehicles = sum(1 for r in routes if r)
            return Solution(routes, dropped, _cost(problem, routes), "ges-partial")
        stats.completed = len(missing)
    lower = fleet_lower_bound(problem)
    best = st.copy()
    active = st.L > 0
    t_stage = time.monotonic()
    fails = 0
    while int(active.sum()) > lower and time.monotonic() < t_end:
        t_try = time.monotonic()
        cap = max_steps  # this attempt's end, in pool steps made by the stage
        if RESTART_STEPS > 0:
            mine = stats.steps + RESTART_STEPS * 2**fails
            cap = mine if max_steps is None else min(max_steps, mine)
        used = np.flatnonzero(active)
        victim = int(used[rng.integers(len(used))])
        pool = [int(t) for t in np.flatnonzero(st.where == victim)]
        st.R[victim, :] = 0
        st.L[victim] = 0
        st.ntask[victim] = 0
        st.where[pool] = -1
        active[victim] = False
        pen[:] = 1
        if not _run_pool(st, data, active, pool, pen, t_end, stats, cap):
            if time.monotonic() >= t_end or (max_steps is not None
                                             and stats.steps >= max_steps):
                break
            st.restore(best)  # restart: a route drawn again, fresh counters, twice the steps
            active = st.L > 0
            fails += 1
            stats.restarts += 1
            continue
        best = st.copy()
        now = time.monotonic()
        log.info("ges: %d vehicles (%d steps, %.2f s at %.2f s)", int(active.sum()), stats.steps,
                 now - t_try, now - t_stage)
    st.restore(best)
    routes = st.routes()
    dropped = tuple(t for t in range(nt) if st.where[t] < 0)
    stats.end_vehicles = sum(1 for r in routes if r)
    return Solution(routes, dropped, _cost(problem, routes), "ges")


#: Tasks removed per ruin-and-recreate step at most: this share of the tasks per route, within
#: [MIN_REMOVE, MAX_REMOVE]; neighbours kept per task.
REMOVE_SHARE, MIN_REMOVE, MAX_REMOVE, N_NEAR = 0.6, 15, 40, 40
#: Probability of skipping each feasible place while recreating (Christiaens & Vanden Berghe's
#: "blinks", SISR 2020).
BLINK = 0.0
#: Recreate steps through the ejection pool per removed task when greedy insertion fails
#: (0: reject the step instead).
EJECT_STEPS = 3
#: Tasks one ejection in that chain may remove from a route to make room (1–3): two cost a
#: step twice the time on 67-stop routes (C(33, 2) pairs a route) for no better plans
#: (docs/routing.md, "Measured (fifth wave)").
EJECT_K = 1
#: Share of ruin steps that remove strings of consecutive stops instead of related tasks.
STRING_SHARE = 0.5
#: Independent annealing runs from the same plan, the budget split evenly, the best kept (one
#: run's result varies a lot: on lr2_2_3 five 15-s runs from one plan gave 0, 0.07, 11, 0, 0 %).
LNS_RUNS = 2
#: Annealing temperatures, start and end, in mean arc costs of the plan. A ruin of 15–40 tasks
#: moves the cost by many arcs, so a start near one arc is almost pure descent: from the same
#: cached plans (22-s searches, two seeds) 0.5 → 10 took nine hard 200-task instances from
#: +12.2 % to +4.9 % and seven type-1 ones from +3.4 % to +2.1 % (SISR starts at ~10 arcs too).
T_START, T_END = 10.0, 0.05


def _near(problem: RoutingProblem, data: _Data) -> np.ndarray:
    """Per task the other tasks by relatedness (pickup to pickup plus delivery to delivery)."""
    c = data.cost[0]
    p = data.tfirst
    d = np.where(data.tsecond >= 0, data.tsecond, data.tfirst)
    rel = c[p[:, None], p[None, :]] + c[d[:, None], d[None, :]]
    np.fill_diagonal(rel, np.iinfo(np.int64).max)
    keep = min(N_NEAR, max(1, len(p) - 1))
    return np.ascontiguousarray(np.argsort(rel, axis=1, kind="stable")[:, :keep])


def shorten_routes(problem: RoutingProblem, start: Solution, seconds: float, *, seed: int = 0,
                   max_iters: int | None = None) -> Solution:
    """Shorter routes on the same vehicles: ruin and recreate with simulated annealing.

    Parameters
    ----------
    problem
        The routing problem (no breaks: see :func:`applicable`).
    start
        A feasible plan; the vehicles it uses are the only ones used (none is added).
    seconds
        Wall-clock budget.
    seed
        Seed of the random choices (run ``r`` of ``LNS_RUNS`` uses ``seed + r``).
    max_iters
        Stop after this many steps as well (repeatable results), split over the runs.

    Returns
    -------
    Solution
        The cheapest plan seen (never costlier than ``start``), status ``"ges-lns"``.
    """
    t_end = time.monotonic() + seconds
    nt = len(problem.tasks)
    if nt < 2 or start.n_used == 0:
        return start
    data = _data(problem)
    near = _near(problem, data)
    runs = max(1, LNS_RUNS if max_iters is None else min(LNS_RUNS, max_iters))
    t0 = time.monotonic()
    best, best_cost, done = None, start.cost, 0
    for r in range(runs):  # independent runs from ``start``, the best kept
        _ges.seed(seed + r)
        st = _State(problem, start.routes)
        done += _anneal(st, data, near, start.cost,
                        t0 + (t_end - t0) * (r + 1) / runs,
                        None if max_iters is None else max_iters // runs)
        routes = st.routes()
        cost = _cost(problem, routes)
        if cost < best_cost:
            best, best_cost = routes, cost
    routes, cost = (best, best_cost) if best is not None else (start.routes, start.cost)
    log.info("ges-lns: %d steps, cost %d -> %d", done, start.cost, cost)
    if cost >= start.cost:
        return start
    return Solution(routes, start.dropped, cost, "ges-lns")


def _anneal(st: _State, data: _Data, near: np.ndarray, start_cost: int, t_end: float,
            max_iters: int | None) -> int:
    """One annealing run of :func:`shorten_routes` on ``st`` until ``t_end``; returns its steps."""
    nt = len(data.tfirst)
    active = st.L > 0
    arcs = int(st.L.sum()) + int(active.sum())
    mean_arc = max(1.0, start_cost / max(1, arcs))
    t_hi, t_lo = T_START * mean_arc, T_END * mean_arc
    t0 = time.monotonic()
    total = max(1e-3, t_end - t0)
    chunk, done = 20, 0
    per_route = int(np.count_nonzero(st.where >= 0)) / max(1, int(active.sum()))
    max_remove = int(np.clip(round(REMOVE_SHARE * per_route), MIN_REMOVE, MAX_REMOVE))
    max_remove = int(min(max_remove, max(1, nt // 2)))
    while time.monotonic() < t_end and (max_iters is None or done < max_iters):
        n = chunk if max_iters is None else min(chunk, max_iters - done)
        f0 = (time.monotonic() - t0) / total if max_iters is None else done / max_iters
        a = time.monotonic()
        f1 = min(1.0, f0 + (n / max_iters if max_iters else 0.05))
        temp0 = t_hi * (t_lo / t_hi) ** f0
        temp1 = t_hi * (t_lo / t_hi) ** f1
        _ges_search.lns(st.R, st.L, active, st.ntask, st.where, near, n, temp0, temp1,
                        max_remove, BLINK, EJECT_STEPS, EJECT_K, STRING_SHARE,
                        *data.args)
        done += n
        if max_iters is None:  # about 5 % of the budget per chunk
            chunk = _next_chunk(n, time.monotonic() - a, 0.05 * total, 100_000,
                                max(0.0, t_end - time.monotonic()))
    return done


def warm_up() -> None:
    """Load (or, the first time on a machine, compile) the kernels on a two-task problem.

    ``cache=True`` keeps the compiled code in ``__pycache__``; a benchmark calls this before its
    clock starts so that a one-off compilation is not timed as search.
    """
    n = 6
    xy = np.array([[0, 0], [0, 0], [1, 0], [2, 0], [0, 1], [0, 2]], dtype=float)
    d = np.rint(10 * np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    p = RoutingProblem(
        travel={"a": d.astype(np.int64)}, tasks=((2, 3), (4, 5)),
        windows=np.tile(np.array([0, 1000], dtype=np.int64), (n, 1)),
        service=np.zeros(n, dtype=np.int64), vehicle_mode=("a", "a"),
        vehicle_start=np.zeros(2, dtype=np.int64), vehicle_end=np.ones(2, dtype=np.int64),
        vehicle_shift=np.tile(np.array([0, 1000], dtype=np.int64), (2, 1)))
    start = Solution(((2, 3), (4, 5)), (), 0)
    sol = minimise_routes(p, start, 1.0, max_steps=10)
    shorten_routes(p, sol, 1.0, max_iters=5)
