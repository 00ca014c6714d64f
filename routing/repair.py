"""Greedy repair after the search: insert left-out tasks wherever the plan check accepts them.

OR-Tools stops at a time limit; a task it left out may still fit somewhere. Each left-out task
(most costly to leave out first) goes into its cheapest position that the independent schedule
check (:func:`routing.validate.schedule_route`), skills and most-tasks accept. A task that
still fits nowhere may take the place of a planned task of no higher priority on one of its
runners, if that task then fits on another runner (a one-step ejection chain; bounded by a
count of schedule checks). So a task the plan leaves out has no single feasible insertion into
the final routes, and no such swap was found within the bound.

The repair also stops at the run's :class:`~routing.deadline.Deadline`: the tasks it has not
reached stay left out (the plan is still complete and checked, only less full).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from .deadline import Deadline
from .problem import RoutingProblem
from .solver import Solution
from .validate import schedule_route

__all__ = ["insert_dropped"]

log = logging.getLogger(__name__)


def _route_cost(p: RoutingProblem, k: int, route: tuple[int, ...]) -> int:
    if not route:
        return 0
    cm = p.cost_matrix(p.vehicle_mode[k])
    path = [int(p.vehicle_start[k]), *route, int(p.vehicle_end[k])]
    return int(sum(int(cm[a, b]) for a, b in zip(path, path[1:], strict=False)))


def _fits_load(p: RoutingProblem, k: int, route: tuple[int, ...]) -> bool:
    if p.demand is None or p.vehicle_capacity is None:
        return True
    load = np.cumsum([int(p.demand[x]) for x in route])
    return bool(load.max(initial=0) <= int(p.vehicle_capacity[k]) and load.min(initial=0) >= 0)


class _Budget:
    """Schedule checks left, and the deadline; either one ends the search."""

    def __init__(self, checks: int, deadline: Deadline) -> None:
        self.checks, self.deadline = checks, deadline

    def spend(self) -> bool:
        """Take one check; False when the count or the time is used up."""
        if self.checks <= 0 or (self.checks % 64 == 0 and self.deadline.expired()):
            self.checks = 0
            return False
        self.checks -= 1
        return True

    @property
    def out(self) -> bool:
        """True when nothing is left."""
        return self.checks <= 0 or self.deadline.expired()


def _best_insertion(p: RoutingProblem, k: int, route: tuple[int, ...], nodes, budget: _Budget
                    ) -> tuple[int, tuple[int, ...]] | None:
    """Cheapest feasible insertion of a task's nodes into ``route`` (cost delta, new route).

    Each schedule check spends one unit of ``budget``; when it is used up the search stops early.
    """
    base = _route_cost(p, k, route)
    best = None
    for i in range(len(route) + 1):
        js = range(i, len(route) + 1) if len(nodes) == 2 else [None]
        for j in js:
            cand = route[:i] + (nodes[0],) + route[i:]
            if j is not None:
                cand = cand[:j + 1] + (nodes[1],) + cand[j + 1:]
            delta = _route_cost(p, k, cand) - base
            if best is not None and delta >= best[0]:
                continue
            if not budget.spend():
                return best
            if _fits_load(p, k, cand) and not schedule_route(p, k, cand)[3]:
                best = (delta, cand)
    return best


def _without(route: tuple[int, ...], nodes) -> tuple[int, ...]:
    drop = set(nodes)
    return tuple(x for x in route if x not in drop)


def insert_dropped(p: RoutingProblem, sol: Solution, *, swap_checks: int = 150_000,
                   deadline: Deadline | None = None) -> Solution:
    """Insert left-out tasks (see the module docstring).

    Parameters
    ----------
    p, sol
        The problem and the solver's plan.
    swap_checks
        Bound on the swap step, in schedule checks (not seconds: the result is the same on any
        machine when the deadline does not bind).
    deadline
        Stop here, keeping what was inserted so far (default: none).
    """
    deadline = deadline or Deadline.never()
    if not sol.dropped:
        return sol
    routes = [tuple(r) for r in sol.routes]
    counts = [sum(1 for x in r if p.tasks[int(p.node_task[x])][0] == x) for r in routes]
    pen = p.task_penalty if p.task_penalty is not None else np.zeros(len(p.tasks))
    unlimited = _Budget(1 << 62, deadline)
    left = []
    for t in sorted(sol.dropped, key=lambda t: -int(pen[t])):
        if unlimited.out:
            left.append(t)
            continue
        nodes = p.tasks[t]
        best = None
        for k in p.allowed(t):
            if p.vehicle_max_tasks is not None and counts[k] >= int(p.vehicle_max_tasks[k]):
                continue
            got = _best_insertion(p, k, routes[k], nodes, unlimited)
            if got is not None and (best is None or got[0] < best[0]):
                best = (got[0], k, got[1])
        if best is None:
            left.append(t)
            continue
        _, k, cand = best
        routes[k] = cand
        counts[k] += 1
        log.info("repair: task %d inserted on vehicle %d", t, k)
    # swap step: a task still out takes the place of a planned task of no higher priority,
    # which moves to another runner; the first such move found is taken
    budget = _Budget(swap_checks, deadline)
    still = []
    for t in left:
        if budget.out:
            still.append(t)
            continue
        moved = _swap_in(p, t, routes, counts, pen, budget)
        if moved is None:
            still.append(t)
            continue
        for k, r in moved.items():
            routes[k] = r
        log.info("repair: task %d swapped in", t)
    left = still
    if deadline.expired():
        log.warning("repair stopped at the time limit; %d task(s) not tried", len(left))
    if len(left) == len(sol.dropped):
        return sol
    cost = sum(_route_cost(p, k, r) for k, r in enumerate(routes))
    return replace(sol, routes=tuple(routes), dropped=tuple(sorted(left)), cost=cost,
                   status=sol.status + "+repair")


def _swap_in(p: RoutingProblem, t: int, routes: list[tuple[int, ...]], counts: list[int],
             pen: np.ndarray, budget: _Budget) -> dict[int, tuple[int, ...]] | None:
    """Routes changed so that task ``t`` is served and every served task stays served."""
    nodes = p.tasks[t]
    for k in p.allowed(t):
        for s in sorted({int(p.node_task[x]) for x in routes[k]}):
            if int(pen[s]) > int(pen[t]):
                continue  # never move a more urgent errand out of the way for a less urgent one
            if budget.out:
                return None
            trimmed = _without(routes[k], p.tasks[s])
            got = _best_insertion(p, k, trimmed, nodes, budget)
            if got is None:
                continue
            new_k = got[1]
            for k2 in p.allowed(s):
                if k2 == k:
                    continue
                if p.vehicle_max_tasks is not None and counts[k2] >= int(p.vehicle_max_tasks[k2]):
                    continue
                there = _best_insertion(p, k2, routes[k2], p.tasks[s], budget)
                if there is not None:
                    counts[k2] += 1
                    return {k: new_k, k2: there[1]}
    return None
