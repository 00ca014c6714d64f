"""Greedy repair after the search: insert left-out tasks wherever the plan check accepts them.

OR-Tools stops at a time limit; a task it left out may still fit somewhere. Each left-out task
(most costly to leave out first) goes into its cheapest position that the independent schedule
check (:func:`routing.validate.schedule_route`), skills and most-tasks accept. So a task the
plan leaves out has no single feasible insertion into the final routes.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

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


def insert_dropped(p: RoutingProblem, sol: Solution) -> Solution:
    """Insert left-out tasks at their cheapest feasible position (see the module docstring)."""
    if not sol.dropped:
        return sol
    routes = [tuple(r) for r in sol.routes]
    counts = [sum(1 for x in r if p.tasks[int(p.node_task[x])][0] == x) for r in routes]
    pen = p.task_penalty if p.task_penalty is not None else np.zeros(len(p.tasks))
    left = []
    for t in sorted(sol.dropped, key=lambda t: -int(pen[t])):
        nodes = p.tasks[t]
        best = None
        for k in p.allowed(t):
            if p.vehicle_max_tasks is not None and counts[k] >= int(p.vehicle_max_tasks[k]):
                continue
            r = routes[k]
            base = _route_cost(p, k, r)
            for i in range(len(r) + 1):
                js = range(i, len(r) + 1) if len(nodes) == 2 else [None]
                for j in js:
                    cand = r[:i] + (nodes[0],) + r[i:]
                    if j is not None:
                        cand = cand[:j + 1] + (nodes[1],) + cand[j + 1:]
                    delta = _route_cost(p, k, cand) - base
                    if best is not None and delta >= best[0]:
                        continue
                    if _fits_load(p, k, cand) and not schedule_route(p, k, cand)[3]:
                        best = (delta, k, cand)
        if best is None:
            left.append(t)
            continue
        _, k, cand = best
        routes[k] = cand
        counts[k] += 1
        log.info("repair: task %d inserted on vehicle %d", t, k)
    if len(left) == len(sol.dropped):
        return sol
    cost = sum(_route_cost(p, k, r) for k, r in enumerate(routes))
    times = tuple(tuple(schedule_route(p, k, r)[0]) for k, r in enumerate(routes))
    return replace(sol, routes=tuple(routes), times=times, dropped=tuple(sorted(left)), cost=cost,
                   status=sol.status + "+repair")
