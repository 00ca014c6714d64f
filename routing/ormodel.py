"""The OR-Tools routing model of a :class:`~routing.problem.RoutingProblem`, and its answer.

One transit matrix per travel mode registered with ``RegisterTransitMatrix`` (C++ evaluation,
no Python callbacks), pickup-and-delivery pairs on the same vehicle in order, a time dimension
with windows, shifts and breaks, a task-count and a load dimension, allowed vehicles per task,
and a disjunction per task so that a plan always comes back. :class:`SolveParams` says how to
search, :class:`Solution` is what comes back; the search itself is :mod:`routing.solver`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from gis.errors import BianminError

from .halls import constrain_hall_stops
from .problem import RoutingProblem

__all__ = ["DEFAULT_TIME_LIMIT_S", "RoutingSolverError", "SolveParams", "Solution"]

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
        Staged search, vehicle minimisation after the first plan: ``"ges"`` (guided ejection
        search, :mod:`routing.ges`, then ruin-and-recreate on that fleet before OR-Tools'
        distance search; problems with breaks fall back to ``"pool"``), ``"pool"`` (route
        elimination through OR-Tools with an ejection pool and squeaky-wheel weights,
        :mod:`routing.fleet`), ``"classic"`` (the earlier loop: at most three victims per fleet
        size, each slice runs to its limit; kept to compare) or ``"off"``. Problems with a
        fixed cost per vehicle use ``"pool"`` after the plain search (unless ``"off"``).
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
    fleet: str = "ges"
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
        if self.fleet not in ("ges", "pool", "classic", "off"):
            raise ValueError(f"Expected fleet in ges, pool, classic, off; got {self.fleet!r}.")
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


def _extract(problem: RoutingProblem, m: _Model, assignment: pywrapcp.Assignment,
             status: str) -> Solution:
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
