"""Route elimination: fewer vehicles before distance, still OR-Tools underneath.

The stage starts from a complete plan and repeatedly tries to empty one route:

1. pick the used route with the fewest tasks (ties: the lowest squeaky-wheel weight, then the
   lowest index); its tasks go to an *ejection pool*;
2. solve again on the remaining vehicles only (the fleet is fixed to ``k - 1`` by restricting
   the vehicles, no fixed cost), from the remaining routes, with every task optional: a task
   served in the plan costs ``big * weight`` when left out (``big`` above any possible
   distance), a task the plan already left out keeps its own penalty. Guided local search runs
   for a short slice and **stops as soon as every task of the plan is served** (an OR-Tools
   custom limit fed by a solution callback), so a successful elimination costs only the time
   it needs;
3. if tasks are still in the pool after the slice, their weights go up by one (the squeaky
   wheel: tasks that keep failing become expensive to leave out, so the search ejects easier
   ones to make room for them) and the next slice continues from that partial plan; after
   :data:`STALL_ROUNDS` rounds without fewer tasks in the pool, the route is given up, the plan
   goes back to the last complete one and the next victim is tried;
4. accept when every task the plan served is served again (vehicles first), or, for a day whose
   runners carry a fixed cost, when the objective ``cost + fixed cost × vehicles`` also falls.

The stage ends when its time is spent, every route has been tried at the current fleet size,
or the fleet reaches a lower bound (one vehicle, or total pickup load over the largest
capacity). No random numbers: every choice is by count, weight and index, so with a
solution limit that binds before the clock (``SolveParams.solution_limit``) the stage is
repeatable; under a wall-clock limit OR-Tools stops each slice where the machine's load lets it
(or-tools #1331).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.util import optional_boolean_pb2

from .problem import RoutingProblem
from .solver import Solution, SolveParams, _build, _extract, _search_params

__all__ = ["FleetStats", "STALL_ROUNDS", "eliminate_routes", "fleet_lower_bound", "slice_seconds"]

log = logging.getLogger(__name__)

#: Rounds without a smaller pool after which a victim route is given up.
STALL_ROUNDS = 2
#: Shortest and longest elimination slice (seconds), and the slice as a share of the budget.
MIN_SLICE_S, MAX_SLICE_S, SLICE_SHARE = 0.5, 8.0, 0.12
#: Local-search operators off by default in OR-Tools that move work between the pool and the
#: routes: swap a served pair for an unserved one, relocate and insert, ruin-and-recreate of
#: the unserved tasks and of close stops.
_EJECTION_OPERATORS = ("use_node_pair_swap_active", "use_relocate_and_make_active",
                       "use_exchange_and_make_active", "use_inactive_lns",
                       "use_global_cheapest_insertion_close_nodes_lns",
                       "use_extended_swap_active")
_TRUE = optional_boolean_pb2.BOOL_TRUE


@dataclass
class FleetStats:
    """What the stage did (for logs and tests).

    Attributes
    ----------
    start_vehicles, end_vehicles
        Vehicles used by the plan given and by the plan returned.
    slices
        OR-Tools runs made.
    eliminated
        Routes emptied and accepted.
    given_up
        Victim routes given up after stalling.
    """

    start_vehicles: int = 0
    end_vehicles: int = 0
    slices: int = 0
    eliminated: int = 0
    given_up: int = 0


def fleet_lower_bound(problem: RoutingProblem) -> int:
    """A lower bound on the vehicles any complete plan needs (1, or load over capacity).

    Parameters
    ----------
    problem
        The routing problem.

    Returns
    -------
    int
        ``max(1, ceil(total pickup load / largest capacity))``.
    """
    if problem.demand is None or problem.vehicle_capacity is None:
        return 1
    load = int(np.clip(problem.demand, 0, None).sum())
    cap = int(np.max(problem.vehicle_capacity))
    return max(1, math.ceil(load / cap)) if cap > 0 else 1


def slice_seconds(time_limit_s: float) -> float:
    """Length of one elimination slice for a solve of ``time_limit_s`` seconds."""
    return float(min(MAX_SLICE_S, max(MIN_SLICE_S, SLICE_SHARE * time_limit_s)))


def _total(problem: RoutingProblem, sol: Solution) -> int:
    """The day objective: travel cost plus the fixed cost of every used vehicle."""
    return sol.cost + problem.vehicle_fixed_cost * sol.n_used


def _slice(problem: RoutingProblem, params: SolveParams, seconds: float,
           start: list[tuple[int, ...]], big: int) -> Solution | None:
    """One GLS run on ``problem`` from ``start``; stops once its cost falls below ``big``.

    The task penalties of ``problem`` are such that the cost is below ``big`` exactly when
    every required task is served.
    """
    m = _build(problem, fixed_cost=0)
    routing = m.routing
    complete = [False]

    def at_solution() -> None:
        if routing.CostVar().Value() < big:
            complete[0] = True

    routing.AddAtSolutionCallback(at_solution)
    routing.AddSearchMonitor(routing.solver().CustomLimit(lambda: complete[0]))
    sp = _search_params(params, seconds)
    ops = sp.local_search_operators
    for name in _EJECTION_OPERATORS:
        setattr(ops, name, _TRUE)
    init = routing.ReadAssignmentFromRoutes(
        routes=[[m.manager.NodeToIndex(x) for x in r] for r in start],
        ignore_inactive_indices=True)
    sol = (routing.SolveWithParameters(sp) if init is None
           else routing.SolveFromAssignmentWithParameters(init, sp))
    return None if sol is None else _extract(problem, m, sol, "eliminate")


def eliminate_routes(problem: RoutingProblem, params: SolveParams, start: Solution,
                     seconds: float, *, vehicles_first: bool = True,
                     stats: FleetStats | None = None) -> Solution:
    """Empty routes of a complete plan while every task it serves stays served.

    Parameters
    ----------
    problem
        The routing problem (all vehicles).
    params
        Search settings (metaheuristic, GLS lambda, solution limit per slice).
    start
        A plan for ``problem``; tasks it leaves out may stay out.
    seconds
        Wall-clock budget of the stage.
    vehicles_first
        Accept one vehicle fewer whatever the distance (benchmarks); if False, accept only when
        ``cost + vehicle_fixed_cost × vehicles`` falls as well (a day with fixed costs).
    stats
        Filled with what the stage did, if given.

    Returns
    -------
    Solution
        The plan with the fewest vehicles reached (``start`` if none could be emptied), routes
        indexed by the vehicles of ``problem``.
    """
    stats = stats if stats is not None else FleetStats()
    t_end = time.monotonic() + seconds
    n_tasks = len(problem.tasks)
    best = start
    stats.start_vehicles = stats.end_vehicles = best.n_used
    if n_tasks == 0 or best.n_used <= 1:
        return best
    required = np.ones(n_tasks, dtype=bool)
    required[list(best.dropped)] = False
    own = (np.asarray(problem.task_penalty, dtype=np.int64) if problem.task_penalty is not None
           else np.zeros(n_tasks, dtype=np.int64))
    max_arc = max(int(problem.cost_matrix(m).max()) for m in set(problem.vehicle_mode))
    # above any plan's travel cost plus the penalties of the tasks the plan leaves out
    big = max_arc * (problem.n_nodes + problem.n_vehicles) + int(own[~required].sum()) + 1
    weight = np.ones(n_tasks, dtype=np.int64)
    lower = fleet_lower_bound(problem)
    slice_s = slice_seconds(params.time_limit_s)
    task_of = problem.node_task
    tried: set[int] = set()

    def left() -> float:
        return t_end - time.monotonic()

    while left() > 0.2 and best.n_used > lower:
        used = [k for k in range(problem.n_vehicles) if best.routes[k]]
        candidates = [k for k in used if k not in tried]
        if not candidates:
            break

        def size(k: int, routes: tuple[tuple[int, ...], ...] = best.routes
                 ) -> tuple[int, int, int]:
            tasks = {int(task_of[x]) for x in routes[k]}
            return (len(tasks), int(weight[list(tasks)].sum()), k)

        victim = min(candidates, key=size)
        keep = [k for k in used if k != victim]
        try:
            sub = problem.with_vehicles(keep)
        except ValueError:  # a task only the victim may serve: this route stays
            tried.add(victim)
            continue
        state = [best.routes[k] for k in keep]
        pool_best, stall, accepted = n_tasks + 1, 0, False
        while left() > 0.2:
            pen = np.where(required, big * weight, own)
            trial = _slice(replace(sub, task_penalty=pen), params,
                           min(slice_s, left()), state, big)
            stats.slices += 1
            if trial is None:
                break
            pool = [t for t in trial.dropped if required[t]]
            if not pool:
                placed = _place(problem.n_vehicles, keep, trial)
                if vehicles_first or _total(problem, placed) < _total(problem, best):
                    best, accepted = placed, True
                break
            weight[pool] += 1  # squeaky wheel
            state = list(trial.routes)
            if len(pool) < pool_best:
                pool_best, stall = len(pool), 0
            else:
                stall += 1
                if stall >= STALL_ROUNDS:
                    break
        if accepted:
            tried.clear()
            stats.eliminated += 1
            log.info("fleet: route eliminated: %s", best.summary())
        else:
            tried.add(victim)
            stats.given_up += 1
            log.info("fleet: could not empty route %d (%d vehicles)", victim, best.n_used)
    stats.end_vehicles = best.n_used
    log.info("fleet: %d -> %d vehicles in %d slices", stats.start_vehicles, best.n_used,
             stats.slices)
    return replace(best, status="fleet")


def _place(n_vehicles: int, keep: list[int], sol: Solution) -> Solution:
    routes: list[tuple[int, ...]] = [()] * n_vehicles
    for j, k in enumerate(keep):
        routes[k] = sol.routes[j]
    return replace(sol, routes=tuple(routes))
