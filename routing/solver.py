"""OR-Tools routing model for :class:`~routing.problem.RoutingProblem`, and the search around it.

The model: one transit matrix per travel mode registered with ``RegisterTransitMatrix`` (C++
evaluation, no Python callbacks), pickup-and-delivery pairs on the same vehicle in order, a time
dimension with windows, shifts and breaks, a task-count and a load dimension, allowed vehicles per
task, and a disjunction per task so that a plan always comes back.

Search: ``PARALLEL_CHEAPEST_INSERTION`` then ``GUIDED_LOCAL_SEARCH`` (single thread). With
``minimize_vehicles`` the time budget is split into stages: a first solution, then route
elimination (drop the shortest route, re-insert its tasks with GLS on one vehicle fewer), then
distance with the fleet fixed. ``workers=2`` runs a second, differently configured search in
another process and keeps the better result.
"""

from __future__ import annotations

import itertools
import logging
import math
import multiprocessing as mp
import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from gis.errors import BianminError

from .halls import constrain_hall_stops
from .problem import RoutingProblem

__all__ = ["DEFAULT_TIME_LIMIT_S", "RoutingSolverError", "SolveParams", "Solution", "solve",
           "solve_from_routes"]

log = logging.getLogger(__name__)

_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic

#: The one default time limit for routing (seconds), used by every caller that has no other.
DEFAULT_TIME_LIMIT_S = 20.0
#: Cumul variables are not pinned to zero at the start: shifts start when they start.
_FREE_START_CUMUL = False
#: Load and task counts start at zero at the depot.
_ZERO_START_CUMUL = True
#: Breaks are compulsory, not optional intervals.
_BREAK_OPTIONAL = False


class RoutingSolverError(BianminError, RuntimeError):
    """OR-Tools returned no plan where one was expected."""


@dataclass(frozen=True)
class SolveParams:
    """Search settings.

    Parameters
    ----------
    time_limit_s
        Wall-clock budget for the whole solve.
    first_solution
        Name of an OR-Tools ``FirstSolutionStrategy``.
    metaheuristic
        Name of an OR-Tools ``LocalSearchMetaheuristic``.
    gls_lambda
        Guided local search lambda coefficient.
    minimize_vehicles
        Rank solutions by vehicles first, then cost (staged search).
    fleet_cost_first
        Staged search: the first plan carries a large fixed cost per vehicle (fewer routes to
        eliminate later) or not (better distances, more routes to eliminate).
    soft_penalty
        Staged search, last stage: cost of leaving a task out, in mean arc costs. Small enough
        that the search can pass through plans with a task left out (only complete plans are
        kept); about 2 worked on Li & Lim.
    fleet
        Staged search, vehicle minimisation after the first plan: ``"pool"`` (route
        elimination with an ejection pool and squeaky-wheel weights, :mod:`routing.fleet`),
        ``"classic"`` (the earlier loop: at most three victims per fleet size, each slice runs to
        its limit; kept to compare) or ``"off"``. Problems with a fixed cost per vehicle use
        ``"pool"`` after the plain search too.
    fleet_share
        Staged search: vehicle minimisation (first plan and route elimination) ends at this
        share of the budget; distance with the fleet fixed gets the rest. For a problem with a
        fixed cost per vehicle (not staged), the share of the budget given to route
        elimination after the plain search.
    workers
        1 or 2: with 2, a second differently configured search runs in another process.
    solution_limit
        Stop after this many solutions as well (plain search only). A wall-clock limit cuts the
        search at a point that depends on machine load, so results vary run to run
        (or-tools #1331); with a solution limit that binds first, the same input gives the
        same plan.
    log_search
        Let OR-Tools log its search.
    """

    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.1
    minimize_vehicles: bool = False
    fleet_cost_first: bool = True
    soft_penalty: float = 2.0
    fleet: str = "pool"
    fleet_share: float = 0.6
    workers: int = 1
    solution_limit: int | None = None
    log_search: bool = False

    def __post_init__(self) -> None:
        if not (self.time_limit_s > 0 and math.isfinite(self.time_limit_s)):
            raise ValueError(f"Expected a finite time_limit_s > 0, got {self.time_limit_s}.")
        if not isinstance(getattr(_FIRST, self.first_solution, None), int):
            raise ValueError(f"Unknown first_solution {self.first_solution!r}.")
        if not isinstance(getattr(_META, self.metaheuristic, None), int):
            raise ValueError(f"Unknown metaheuristic {self.metaheuristic!r}.")
        if self.fleet not in ("pool", "classic", "off"):
            raise ValueError(f"Expected fleet in pool, classic, off; got {self.fleet!r}.")
        if not 0.0 < self.fleet_share < 1.0:
            raise ValueError(f"Expected 0 < fleet_share < 1, got {self.fleet_share}.")
        if self.workers not in (1, 2):
            raise ValueError("Expected workers in {1, 2}.")


@dataclass(frozen=True)
class Solution:
    """Routes found by the solver (node indices of the problem, depots excluded).

    Attributes
    ----------
    routes
        Per vehicle, the visited task nodes in order (times are recomputed by the independent
        check, :func:`routing.validate.validate_solution`, never taken from the solver).
    dropped
        Indices of tasks left out.
    cost
        Total arc cost of the routes (sum of ``problem.cost_matrix`` over arcs, depots included).
    status
        Short text: which stage produced it.
    """

    routes: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]
    cost: int
    status: str = ""

    @property
    def n_used(self) -> int:
        """Number of vehicles with at least one visit."""
        return sum(1 for r in self.routes if r)

    def key(self) -> tuple[int, int, int]:
        """Ranking key: fewer dropped tasks, then fewer vehicles, then lower cost."""
        return (len(self.dropped), self.n_used, self.cost)

    def summary(self) -> str:
        """One line: vehicles used, tasks dropped, cost."""
        return f"{self.n_used} vehicles, {len(self.dropped)} dropped, cost {self.cost}"


@dataclass
class _Model:
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension


def _allow(routing: pywrapcp.RoutingModel, allowed: list[int], index: int) -> None:
    """Restrict the vehicles of an index (-1 stays allowed: the node may be dropped).

    ``SetAllowedVehiclesForIndex`` is the documented call, but the OR-Tools 9.15 Python wheel
    cannot convert any Python sequence to its ``absl::Span<const int>`` argument, so fall back
    to restricting the vehicle variable's domain, which is what that call does.
    """
    try:
        routing.SetAllowedVehiclesForIndex(allowed, index)
    except TypeError:
        routing.VehicleVar(index).SetValues([-1, *allowed])


def _build(problem: RoutingProblem, *, mandatory: bool = False, penalty: int | None = None,
           fixed_cost: int | None = None) -> _Model:
    p = problem
    n, v = p.n_nodes, p.n_vehicles
    manager = pywrapcp.RoutingIndexManager(
        n, v, [int(x) for x in p.vehicle_start], [int(x) for x in p.vehicle_end]
    )
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    service = np.asarray(p.service, dtype=np.int64)
    modes = sorted(set(p.vehicle_mode))
    time_cb: dict[str, int] = {}
    cost_cb: dict[str, int] = {}
    for mode in modes:
        travel = p.travel[mode]
        time_cb[mode] = routing.RegisterTransitMatrix((travel + service[:, None]).tolist())
        c = p.cost_matrix(mode)
        cost_cb[mode] = time_cb[mode] if c is travel and not service.any() else (
            routing.RegisterTransitMatrix(c.tolist())
        )
    for k in range(v):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[p.vehicle_mode[k]], k)
    fc = p.vehicle_fixed_cost if fixed_cost is None else fixed_cost
    if fc:
        routing.SetFixedCostOfAllVehicles(int(fc))

    horizon = int(max(p.windows[:, 1].max(), p.vehicle_shift[:, 1].max()))
    routing.AddDimensionWithVehicleTransits(
        evaluator_indices=[time_cb[p.vehicle_mode[k]] for k in range(v)], slack_max=horizon,
        capacity=horizon, fix_start_cumul_to_zero=_FREE_START_CUMUL, name="Time"
    )
    tdim = routing.GetDimensionOrDie("Time")
    for node in range(n):
        if p.node_task[node] >= 0:
            tdim.CumulVar(manager.NodeToIndex(node)).SetRange(
                int(p.windows[node, 0]), int(p.windows[node, 1])
            )
    constrain_hall_stops(p, manager, tdim)  # halls' open hours (routing/halls.py)
    for k in range(v):
        lo, hi = int(p.vehicle_shift[k, 0]), int(p.vehicle_shift[k, 1])
        s, e = routing.Start(k), routing.End(k)
        tdim.CumulVar(s).SetRange(max(lo, int(p.windows[p.vehicle_start[k], 0])), hi)
        tdim.CumulVar(e).SetRange(lo, min(hi, int(p.windows[p.vehicle_end[k], 1])))
        routing.AddVariableMaximizedByFinalizer(tdim.CumulVar(s))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(e))

    if p.vehicle_breaks is not None and any(b is not None for b in p.vehicle_breaks):
        visit = [0] * routing.Size()
        for idx in range(routing.Size()):
            visit[idx] = int(service[manager.IndexToNode(idx)])
        for k, b in enumerate(p.vehicle_breaks):
            if b is None:
                continue
            iv = solver.FixedDurationIntervalVar(
                int(b.earliest), int(b.latest), int(b.duration), _BREAK_OPTIONAL, f"break_{k}"
            )
            tdim.SetBreakIntervalsOfVehicle([iv], k, visit)

    if p.demand is not None:
        cap = p.vehicle_capacity if p.vehicle_capacity is not None else np.full(v, 10**9)
        cb = routing.RegisterUnaryTransitVector([int(x) for x in p.demand])
        routing.AddDimensionWithVehicleCapacity(
            evaluator_index=cb, slack_max=0, vehicle_capacities=[int(x) for x in cap],
            fix_start_cumul_to_zero=_ZERO_START_CUMUL, name="Load")
    if p.vehicle_max_tasks is not None:
        first = np.zeros(n, dtype=np.int64)
        for nodes in p.tasks:
            first[nodes[0]] = 1
        cb = routing.RegisterUnaryTransitVector(first.tolist())
        routing.AddDimensionWithVehicleCapacity(
            evaluator_index=cb, slack_max=0,
            vehicle_capacities=[int(x) for x in p.vehicle_max_tasks],
            fix_start_cumul_to_zero=_ZERO_START_CUMUL, name="Tasks")

    for t, nodes in enumerate(p.tasks):
        idx = [manager.NodeToIndex(int(x)) for x in nodes]
        if len(idx) == 2:
            pi, di = idx
            routing.AddPickupAndDelivery(pi, di)
            solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
            solver.Add(routing.ActiveVar(pi) == routing.ActiveVar(di))
            solver.Add(tdim.CumulVar(pi) <= tdim.CumulVar(di))
        if p.task_vehicles is not None and p.task_vehicles[t] is not None:
            allowed = [int(x) for x in p.task_vehicles[t]]
            if allowed:  # never an empty list (or-tools #4644); the builder drops those
                for i in idx:
                    _allow(routing, allowed, i)
        if mandatory:
            continue
        pen = penalty
        if pen is None and p.task_penalty is not None:
            pen = int(p.task_penalty[t])
        if pen is None:
            continue
        # a pair is dropped as a whole (ActiveVar equality); split its penalty over both nodes
        share = [pen // len(idx) + (1 if j < pen % len(idx) else 0) for j in range(len(idx))]
        for i, s in zip(idx, share, strict=True):
            routing.AddDisjunction([i], int(s))
    return _Model(manager, routing, tdim)


def _search_params(params: SolveParams, seconds: float) -> pywrapcp.DefaultRoutingSearchParameters:
    sp = pywrapcp.DefaultRoutingSearchParameters()
    sp.first_solution_strategy = getattr(_FIRST, params.first_solution)
    sp.local_search_metaheuristic = getattr(_META, params.metaheuristic)
    sp.guided_local_search_lambda_coefficient = params.gls_lambda
    sp.time_limit.FromMilliseconds(max(100, int(seconds * 1000)))
    sp.log_search = params.log_search
    if params.solution_limit is not None:
        sp.solution_limit = int(params.solution_limit)
    return sp


def _extract(problem: RoutingProblem, m: _Model, assignment, status: str) -> Solution:
    routes = []
    visited = np.zeros(problem.n_nodes, dtype=bool)
    cost = 0
    for k in range(problem.n_vehicles):
        cm = problem.cost_matrix(problem.vehicle_mode[k])
        idx = m.routing.Start(k)
        prev = m.manager.IndexToNode(idx)
        r = []
        idx = assignment.Value(m.routing.NextVar(idx))
        while not m.routing.IsEnd(idx):
            node = m.manager.IndexToNode(idx)
            r.append(node)
            visited[node] = True
            cost += int(cm[prev, node])
            prev = node
            idx = assignment.Value(m.routing.NextVar(idx))
        if r:
            cost += int(cm[prev, m.manager.IndexToNode(idx)])
        routes.append(tuple(r))
    dropped = tuple(t for t, nodes in enumerate(problem.tasks) if not visited[nodes[0]])
    return Solution(tuple(routes), dropped, cost, status)


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


def _place(n_vehicles: int, keep: list[int], sol: Solution) -> Solution:
    routes: list[tuple[int, ...]] = [()] * n_vehicles
    for j, k in enumerate(keep):
        routes[k] = sol.routes[j]
    return replace(sol, routes=tuple(routes))


def _solve_staged(problem: RoutingProblem, params: SolveParams) -> Solution:
    """Vehicles first: first solution, route elimination, then cost with the fleet fixed."""
    t0 = time.monotonic()
    budget = params.time_limit_s
    big = int(problem.cost_matrix(problem.vehicle_mode[0]).max()) * problem.n_nodes + 1

    def left(until: float) -> float:
        return until * budget - (time.monotonic() - t0)

    # stage 1: a first plan (optionally with a fixed cost per vehicle, towards fewer routes)
    best = _run(problem, params, STAGE1_SHARE * budget, penalty=10 * big,
                fixed_cost=big if params.fleet_cost_first else 0, status="fleet")
    if best is None:
        raise RoutingSolverError(
            f"the routing solver found no first plan within {STAGE1_SHARE * budget:.1f} s; "
            "allow more time or plan fewer errands")
    log.info("stage 1: %s", best.summary())
    # stage 2: route elimination: empty a short route, re-insert its tasks elsewhere; when that
    # fails, try the next shortest (at most ELIMINATE_TRIES per fleet size)
    if params.fleet == "pool":  # ejection pool, squeaky wheel (routing/fleet.py)
        from .fleet import eliminate_routes

        best = eliminate_routes(problem, params, best, left(params.fleet_share))
    tried: set[int] = set()
    while (params.fleet == "classic" and left(params.fleet_share) > 0.1 and best.n_used > 1
           and not best.dropped):
        used = [k for k in range(problem.n_vehicles) if best.routes[k]]
        candidates = [k for k in used if k not in tried]
        if not candidates or len(tried) >= ELIMINATE_TRIES:
            break
        victim = min(candidates, key=lambda k: (len(best.routes[k]), k))
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
