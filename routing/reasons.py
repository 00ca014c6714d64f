"""Why was a task left out? Independent checks, from the hardest reason to the softest.

1. ``outside every shift``: no allowed vehicle's shift overlaps the task's windows.
2. ``unreachable``: for every allowed vehicle some leg of base -> stops -> base has no path.
3. ``not enough time``: no allowed vehicle could serve the task even alone (out from its base and
   back, windows, shift and break respected), recomputed by :func:`routing.validate`.
4. ``runners at their most errands``: every vehicle that could serve it alone already has its
   most tasks in the plan.
5. ``runners fully booked``: some vehicle could serve it alone, but not on top of its plan,
   and no swap with a planned errand of no higher priority made room (see :mod:`routing.repair`).

("no runner with the skill" is found before solving, in :mod:`routing.build`.)
"""

from __future__ import annotations

import numpy as np

from .problem import UNREACHABLE, RoutingProblem
from .validate import schedule_route

__all__ = ["drop_reasons", "OUTSIDE_SHIFT", "UNREACHABLE_REASON", "NOT_ENOUGH_TIME", "BOOKED",
           "AT_MOST"]

OUTSIDE_SHIFT = "outside every shift"
UNREACHABLE_REASON = "unreachable"
NOT_ENOUGH_TIME = "not enough time"
BOOKED = "runners fully booked"
AT_MOST = "runners at their most errands"


def _reason(p: RoutingProblem, t: int, counts: list[int] | None) -> str:
    nodes = p.tasks[t]
    allowed = p.allowed(t)
    w = p.windows[list(nodes)]
    in_shift = [k for k in allowed
                if w[:, 0].max() <= p.vehicle_shift[k, 1] and w[:, 1].min() >= p.vehicle_shift[k, 0]
                and w[-1, 1] >= p.vehicle_shift[k, 0]]
    if not in_shift:
        return OUTSIDE_SHIFT
    reach = []
    for k in in_shift:
        m = p.travel[p.vehicle_mode[k]]
        path = [int(p.vehicle_start[k]), *nodes, int(p.vehicle_end[k])]
        if all(m[a, b] < UNREACHABLE for a, b in zip(path, path[1:], strict=False)):
            reach.append(k)
    if not reach:
        return UNREACHABLE_REASON
    cap_ok = p.vehicle_capacity is None or p.demand is None
    alone = []
    for k in reach:
        if not cap_ok and int(np.asarray(p.demand)[nodes[0]]) > int(p.vehicle_capacity[k]):
            continue
        if not schedule_route(p, k, tuple(nodes))[3]:
            alone.append(k)
    if not alone:
        return NOT_ENOUGH_TIME
    if counts is not None and p.vehicle_max_tasks is not None and all(
            counts[k] >= int(p.vehicle_max_tasks[k]) for k in alone):
        return AT_MOST
    return BOOKED


def drop_reasons(p: RoutingProblem, dropped: list[int] | tuple[int, ...],
                 routes: tuple[tuple[int, ...], ...] | None = None) -> dict[int, str]:
    """Reason per dropped task index (see the module docstring for the order of checks).

    Parameters
    ----------
    p
        The problem.
    dropped
        Task indices left out.
    routes
        The plan's routes (per vehicle, nodes), to tell "at their most errands" apart.
    """
    counts = None
    if routes is not None:
        counts = [sum(1 for x in r if p.tasks[int(p.node_task[x])][0] == x) for r in routes]
    return {t: _reason(p, t, counts) for t in dropped}
