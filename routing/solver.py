"""The search around the OR-Tools model of a :class:`~routing.problem.RoutingProblem`.

The model, its parameters and its answer live in :mod:`routing.ormodel` (re-exported here).

Search: ``PARALLEL_CHEAPEST_INSERTION`` then ``GUIDED_LOCAL_SEARCH`` (single thread). With
``minimize_vehicles`` the time budget is split into stages: a first solution, then route
elimination (drop the shortest route, re-insert its tasks with GLS on one vehicle fewer), then
distance with the fleet fixed. ``workers=2`` runs a second, differently configured search in
another process and keeps the better result.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import time
from dataclasses import replace

import numpy as np

from .ormodel import (
    DEFAULT_TIME_LIMIT_S,
    RoutingSolverError,
    Solution,
    SolveParams,
    _build,
    _extract,
    _Model,
    _search_params,
)
from .problem import RoutingProblem

__all__ = ["DEFAULT_TIME_LIMIT_S", "RoutingSolverError", "SolveParams", "Solution", "solve",
           "solve_from_routes"]

log = logging.getLogger(__name__)


class _CompleteTracker:
    """At every solution OR-Tools finds, keep the cheapest one that serves every task.

    Lets a search with soft (penalised) tasks wander through plans that leave some out, while
    only complete plans are kept: the way out of the tight "feasible islands" a fixed fleet
    creates, where nearly every move with all tasks served violates a window.
    """

    def __init__(self, problem: RoutingProblem, m: _Model) -> None:
        self.p, self.m = problem, m
        self.n_task_nodes = sum(len(t) for t in problem.tasks)
        self.best = None
        self.routes: list[list[int]] | None = None
        m.routing.AddAtSolutionCallback(self)

    def __call__(self) -> None:
        r = self.m.routing
        cost = r.CostVar().Value()
        if self.best is not None and cost >= self.best:
            return
        routes, count = [], 0
        for k in range(self.p.n_vehicles):
            idx = r.NextVar(r.Start(k)).Value()
            route = []
            while not r.IsEnd(idx):
                route.append(idx)
                idx = r.NextVar(idx).Value()
            count += len(route)
            routes.append(route)
        if count == self.n_task_nodes:
            self.best, self.routes = cost, routes

    def solution(self, status: str) -> Solution:
        """The best complete plan as a Solution (times recomputed by the caller's check)."""
        man = self.m.manager
        routes = tuple(tuple(man.IndexToNode(i) for i in r) for r in self.routes or [])
        cost = 0
        for k, r in enumerate(routes):
            if r:
                cm = self.p.cost_matrix(self.p.vehicle_mode[k])
                path = [int(self.p.vehicle_start[k]), *r, int(self.p.vehicle_end[k])]
                cost += sum(int(cm[a, b]) for a, b in zip(path, path[1:], strict=False))
        return Solution(routes, (), cost, status + "+tracked")


def _run(problem: RoutingProblem, params: SolveParams, seconds: float, *,
         start: tuple[tuple[int, ...], ...] | None = None, mandatory: bool = False,
         penalty: int | None = None, fixed_cost: int | None = None,
         status: str = "", track_complete: bool = False) -> Solution | None:
    m = _build(problem, mandatory=mandatory, penalty=penalty, fixed_cost=fixed_cost)
    sp = _search_params(params, seconds)
    tracker = _CompleteTracker(problem, m) if track_complete else None
    if start is not None:
        init = m.routing.ReadAssignmentFromRoutes(
            routes=[[m.manager.NodeToIndex(x) for x in r] for r in start],
            ignore_inactive_indices=True,
        )
        if init is None:
            log.warning("start routes rejected by the model; solving from scratch")
            sol = m.routing.SolveWithParameters(sp)
        else:
            sol = m.routing.SolveFromAssignmentWithParameters(init, sp)
    else:
        sol = m.routing.SolveWithParameters(sp)
    if tracker is not None and tracker.routes is not None:
        full = tracker.solution(status)
        if sol is None or _extract(problem, m, sol, status).key() > full.key():
            return full
    if sol is None:
        return None
    return _extract(problem, m, sol, status)


def _solve_plain(problem: RoutingProblem, params: SolveParams) -> Solution:
    sol = _run(problem, params, params.time_limit_s, status="gls")
    if sol is None:
        raise RoutingSolverError(
            f"the routing solver found no plan within {params.time_limit_s:g} s; "
            "allow more time or plan fewer errands")
    return sol


#: Staged search shares of the budget: first plan, one elimination try (``fleet="classic"``).
STAGE1_SHARE, SLICE_SHARE, ELIMINATE_TRIES = 0.15, 0.12, 3
#: ``fleet="ges"``: the first plan's share, and where the ruin-and-recreate distance search
#: ends (route minimisation runs until ``fleet_share``; OR-Tools' distance search gets the rest).
GES_FIRST_SHARE, GES_LNS_END = 0.06, 0.97


def _place(n_vehicles: int, keep: list[int], sol: Solution) -> Solution:
    routes: list[tuple[int, ...]] = [()] * n_vehicles
    for j, k in enumerate(keep):
        routes[k] = sol.routes[j]
    return replace(sol, routes=tuple(routes))


def _ges_applicable(problem: RoutingProblem) -> bool:
    from .ges import applicable

    return applicable(problem)


def _solve_staged(problem: RoutingProblem, params: SolveParams) -> Solution:
    """Vehicles first: first solution, route elimination, then cost with the fleet fixed."""
    t0 = time.monotonic()
    budget = params.time_limit_s
    big = int(problem.cost_matrix(problem.vehicle_mode[0]).max()) * problem.n_nodes + 1

    def left(until: float) -> float:
        return until * budget - (time.monotonic() - t0)

    # stage 1: a first plan (optionally with a fixed cost per vehicle, towards fewer routes)
    ges = params.fleet == "ges" and _ges_applicable(problem)
    first_share = GES_FIRST_SHARE if ges else STAGE1_SHARE
    best = _run(problem, params, first_share * budget, penalty=10 * big,
                fixed_cost=big if params.fleet_cost_first else 0, status="fleet")
    if best is None and ges:  # nothing in time: the ejection search builds the plan itself
        best = Solution(((),) * problem.n_vehicles, tuple(range(len(problem.tasks))), 0, "empty")
    if best is None:
        raise RoutingSolverError(
            f"the routing solver found no first plan within {first_share * budget:.1f} s; "
            "allow more time or plan fewer errands")
    log.info("stage 1: %s", best.summary())
    # stage 2: route elimination: empty a short route, re-insert its tasks elsewhere; when that
    # fails, try the next shortest (at most ELIMINATE_TRIES per fleet size)
    if ges:  # guided ejection search (routing/ges.py), then OR-Tools for distance
        from .ges import minimise_routes, shorten_routes

        every = np.ones(len(problem.tasks), dtype=bool) if best.status == "empty" else None
        best = minimise_routes(problem, best, left(params.fleet_share), required=every)
        log.info("stage 2: %s", best.summary())
        if not best.dropped:  # shorter routes on that fleet, before OR-Tools' own search
            best = shorten_routes(problem, best, left(GES_LNS_END))
            log.info("stage 2b: %s", best.summary())
    elif params.fleet in ("pool", "ges"):  # ejection pool, squeaky wheel (routing/fleet.py)
        from .fleet import eliminate_routes

        best = eliminate_routes(problem, params, best, left(params.fleet_share))
    tried: set[int] = set()
    while (params.fleet == "classic" and left(params.fleet_share) > 0.1 and best.n_used > 1
           and not best.dropped):
        used = [k for k in range(problem.n_vehicles) if best.routes[k]]
        candidates = [k for k in used if k not in tried]
        if not candidates or len(tried) >= ELIMINATE_TRIES:
            break
        length = {k: len(best.routes[k]) for k in candidates}
        victim = min(candidates, key=lambda k: (length[k], k))
        keep = [k for k in used if k != victim]
        slice_s = max(0.3, min(left(params.fleet_share), SLICE_SHARE * budget))
        trial = _run(problem.with_vehicles(keep), params, slice_s,
                     start=tuple(best.routes[k] for k in keep), penalty=big, status="eliminate")
        if trial is None or trial.dropped:
            log.info("stage 2: could not empty route %d: %d vehicles", victim, best.n_used)
            tried.add(victim)
            continue
        best = _place(problem.n_vehicles, keep, trial)
        tried.clear()
        log.info("stage 2: route eliminated: %s", best.summary())
    # stage 3: cost only, fleet fixed; tasks soft (penalty ~ a few mean arcs) so the search can
    # leave the tight feasible island; only complete plans are kept (tracker)
    used = [k for k in range(problem.n_vehicles) if best.routes[k]]
    if left(1.0) > 0.2 and used and not best.dropped:
        sub = problem.with_vehicles(used)
        mean_arc = float(np.mean(sub.cost_matrix(sub.vehicle_mode[0])))
        final = _run(sub, params, left(1.0), start=tuple(best.routes[k] for k in used),
                     penalty=max(1, int(params.soft_penalty * mean_arc)), fixed_cost=0,
                     status="distance", track_complete=True)
        if final is not None and final.key() <= best.key():
            best = _place(problem.n_vehicles, used, final)
    log.info("staged result: %s", best.summary())
    return best


def _solve_one(problem: RoutingProblem, params: SolveParams) -> Solution:
    if params.minimize_vehicles:
        return _solve_staged(problem, params)
    if not problem.vehicle_fixed_cost or params.fleet == "off":  # the day path, unchanged
        return _solve_plain(problem, params)
    # runners with a fixed cost: the plain search, then route elimination on the fleet_share
    from .fleet import eliminate_routes

    t0, budget = time.monotonic(), params.time_limit_s
    sol = _solve_plain(problem, replace(params, time_limit_s=(1 - params.fleet_share) * budget))
    return eliminate_routes(problem, params, sol, budget - (time.monotonic() - t0),
                            vehicles_first=False)


def _worker(args: tuple[RoutingProblem, SolveParams]) -> Solution:
    return _solve_one(*args)


def solve(problem: RoutingProblem, params: SolveParams | None = None) -> Solution:
    """Solve a routing problem.

    Parameters
    ----------
    problem
        The problem, in solver units.
    params
        Search settings (default :class:`SolveParams`).

    Returns
    -------
    Solution
        Routes, service start times and dropped tasks. With ``workers=2`` the better of two
        searches run at once: staged, the second flips ``fleet_cost_first``; otherwise it uses
        local cheapest insertion and a larger GLS lambda.
    """
    params = params or SolveParams()
    if params.workers == 1:
        return _solve_one(problem, params)
    if params.minimize_vehicles:
        other = replace(params, fleet_cost_first=not params.fleet_cost_first, workers=1)
    else:
        other = replace(params, first_solution="LOCAL_CHEAPEST_INSERTION", gls_lambda=0.3,
                        workers=1)
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        fut = pool.apply_async(_worker, ((problem, other),))
        mine = _solve_one(problem, replace(params, workers=1))
        theirs = fut.get(timeout=params.time_limit_s * 3 + 30)
    return min((mine, theirs), key=lambda s: s.key())


def solve_from_routes(problem: RoutingProblem, start: tuple[tuple[int, ...], ...], *,
                      locks: tuple[tuple[int, ...], ...], params: SolveParams,
                      move_penalty: int = 0,
                      home: np.ndarray | None = None) -> Solution | None:
    """Re-plan: keep each vehicle's locked prefix, warm-start from earlier routes.

    Parameters
    ----------
    problem
        The problem (locked nodes included, as task nodes).
    start
        Per vehicle, the routes to start the search from (each begins with its lock).
    locks
        Per vehicle, the nodes it must visit first, in this order (what is done, then where
        the vehicle is now). Applied with ``ApplyLocksToAllVehicles`` and made hard by fixing
        the ``NextVar`` chain, so no search move can undo them.
    params
        Search settings (``time_limit_s``, ``metaheuristic``, …).
    move_penalty
        Cost of serving a node on another vehicle than ``home[node]`` (a soft same-vehicle
        constraint with that vehicle's last locked node).
    home
        ``(n,)`` vehicle each node was on before, ``-1`` for none.

    Returns
    -------
    Solution or None
        ``None`` when the search found no plan in time.
    """
    m = _build(problem)
    routing, man = m.routing, m.manager
    if move_penalty and home is not None:
        # a node away from its vehicle's locked stops costs the penalty (the last locked stop
        # of a vehicle is on it for sure, so "same vehicle as it" means "on that vehicle")
        for node, k in enumerate(np.asarray(home).tolist()):
            if k >= 0 and locks[k]:
                routing.AddSoftSameVehicleConstraint(
                    [man.NodeToIndex(node), man.NodeToIndex(int(locks[k][-1]))],
                    int(move_penalty))
    sp = _search_params(params, params.time_limit_s)
    routing.CloseModelWithParameters(sp)
    idx_locks = [[man.NodeToIndex(int(x)) for x in lock] for lock in locks]
    for k, lock in enumerate(idx_locks):
        chain = [routing.Start(k), *lock]
        for a, b in itertools.pairwise(chain):
            routing.NextVar(a).SetValue(b)
    if not routing.ApplyLocksToAllVehicles(idx_locks, False):
        log.info("locks not applied as a preassignment; the fixed NextVar chain still holds")
    sol = None
    for routes in (start, locks):
        init = routing.ReadAssignmentFromRoutes(
            [[man.NodeToIndex(int(x)) for x in r] for r in routes], True)
        if init is not None:
            sol = routing.SolveFromAssignmentWithParameters(init, sp) or init
            status = "replan-warm" if routes is start else "replan-locks"
            break
    else:
        log.info("warm start rejected by the model: searching from the locks")
        sol = routing.SolveWithParameters(sp)
        status = "replan"
    if sol is None:
        return None
    return _extract(problem, m, sol, status)
