"""Independent plan check: recompute every route from the matrices, trust nothing from the solver.

The check walks each route with the earliest schedule (leave the depot at shift start, wait when
early), tries the vehicle's break in every gap between stops, and reports every violation found:
windows, halls' open hours (a stop at a hall waits for the next opening its service fits in, and
a service start the solver reports inside a closure is rejected), shift end, pickup before
delivery on the same vehicle, skills, load, most tasks, unreachable arcs, tasks served twice or
neither served nor listed as dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .problem import UNREACHABLE, Break, RoutingProblem
from .solver import Solution

__all__ = ["PlanCheck", "validate_solution", "schedule_route", "earliest_open_start",
           "LATE", "HALL_CLOSED", "RETURNS_LATE", "BREAK_LATE", "NO_PATH"]

#: Words that start each kind of schedule issue (``routing.reasons`` tells causes apart by them).
LATE, HALL_CLOSED, RETURNS_LATE, BREAK_LATE, NO_PATH = (
    "late at node", "hall closed at node", "returns at", "break cannot start", "unreachable")


def earliest_open_start(intervals: tuple[tuple[int, int], ...], t: int) -> int | None:
    """The earliest start ``>= t`` inside one of the sorted ``(lo, hi)`` intervals, or None."""
    for lo, hi in intervals:
        if t <= hi:
            return max(t, lo)
    return None


@dataclass
class PlanCheck:
    """Result of :func:`validate_solution`.

    Attributes
    ----------
    problems
        Every violation found (empty when the plan is valid).
    starts
        Per vehicle, recomputed service start time at each stop.
    ends
        Per vehicle, recomputed return time to the end depot (shift start for unused).
    breaks
        Per vehicle, recomputed break start time or ``None``.
    """

    problems: list[str] = field(default_factory=list)
    starts: list[list[int]] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    breaks: list[int | None] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return not self.problems

    def summary(self) -> str:
        """One line for logs."""
        return "plan valid" if self.ok else f"{len(self.problems)} problem(s): {self.problems[0]}"


def _walk(p: RoutingProblem, k: int, route: tuple[int, ...], brk: Break | None,
          gap: int | None) -> tuple[list[int], int, int | None, list[str]]:
    """Earliest schedule of one route with the break in gap ``gap`` (0 = before the first leg)."""
    travel = p.travel[p.vehicle_mode[k]]
    opens = p.node_open or {}
    path = [int(p.vehicle_start[k]), *route, int(p.vehicle_end[k])]
    t = int(p.vehicle_shift[k, 0])
    starts: list[int] = []
    bstart: int | None = None
    issues: list[str] = []
    for i in range(len(path) - 1):
        a, b = path[i], path[i + 1]
        leg = int(travel[a, b])
        if leg >= UNREACHABLE:
            issues.append(f"vehicle {k}: node {b} {NO_PATH} from node {a}")
        f = t  # finish time at a (service included)
        arrive = f + leg
        if brk is not None and gap == i:
            bstart = max(brk.earliest, f)
            if bstart > brk.latest:
                issues.append(f"vehicle {k}: {BREAK_LATE} by {brk.latest} (free at {f})")
            arrive = max(arrive, bstart) + brk.duration
        if i + 1 < len(path) - 1:
            s = max(arrive, int(p.windows[b, 0]))
            if b in opens:  # a hall: wait for the next opening the service fits in
                s_open = earliest_open_start(opens[b], s)
                if s_open is None or s_open > int(p.windows[b, 1]):
                    issues.append(f"vehicle {k}: {HALL_CLOSED} {b}: ready at {s}, no service "
                                  f"start left in the hall's hours {list(opens[b])} within its "
                                  f"window")
                else:
                    s = s_open
            if s > int(p.windows[b, 1]):
                issues.append(f"vehicle {k}: {LATE} {b}: starts {s} > latest "
                              f"{int(p.windows[b, 1])}")
            starts.append(s)
            t = s + int(p.service[b])
        else:
            t = arrive
    if t > int(p.vehicle_shift[k, 1]):
        issues.append(f"vehicle {k}: {RETURNS_LATE} {t} after shift end {int(p.vehicle_shift[k, 1])}")
    return starts, t, bstart, issues


def schedule_route(p: RoutingProblem, k: int, route: tuple[int, ...]
                   ) -> tuple[list[int], int, int | None, list[str]]:
    """Recompute the earliest feasible schedule of a route, trying the break in every gap.

    Parameters
    ----------
    p
        The problem.
    k
        Vehicle index.
    route
        Visited nodes in order (depots excluded).

    Returns
    -------
    tuple
        ``(starts, end_time, break_start, issues)`` for the best break placement (no issues if
        one is feasible; otherwise the issues of the first placement).
    """
    brk = p.vehicle_breaks[k] if p.vehicle_breaks is not None else None
    if brk is None or not route:
        return _walk(p, k, route, None, None)
    first = None
    for gap in range(len(route) + 1):
        res = _walk(p, k, route, brk, gap)
        if not res[3]:
            return res
        first = first or res
    return first  # type: ignore[return-value]



def validate_solution(p: RoutingProblem, sol: Solution) -> PlanCheck:
    """Check a solution against the problem, recomputing everything from the matrices.

    Parameters
    ----------
    p
        The problem the solution claims to solve.
    sol
        The solution.

    Returns
    -------
    PlanCheck
        Every violation found, plus recomputed times.
    """
    out = PlanCheck()
    if len(sol.routes) != p.n_vehicles:
        out.problems.append(f"{len(sol.routes)} routes for {p.n_vehicles} vehicles")
        return out
    where: dict[int, tuple[int, int]] = {}  # node -> (vehicle, position)
    demand = p.demand_or_zero()
    cost = 0
    for k, route in enumerate(sol.routes):
        for pos, node in enumerate(route):
            if not 0 <= node < p.n_nodes or p.node_task[node] < 0:
                out.problems.append(f"vehicle {k}: node {node} is not a task node")
                continue
            if node in where:
                out.problems.append(f"node {node} visited twice")
            where[node] = (k, pos)
            t = int(p.node_task[node])
            if k not in p.allowed(t):
                out.problems.append(f"vehicle {k}: not allowed to serve task {t} (skill)")
        starts, end, bstart, issues = schedule_route(p, k, route)
        out.problems.extend(issues)
        out.starts.append(starts)
        out.ends.append(end)
        out.breaks.append(bstart)
        load = np.cumsum([int(demand[x]) for x in route]) if route else np.zeros(0)
        cap = None if p.vehicle_capacity is None else int(p.vehicle_capacity[k])
        if cap is not None and load.size and (load.max() > cap or load.min() < 0):
            out.problems.append(f"vehicle {k}: load out of [0, {cap}] (max {int(load.max())})")
        n_tasks = sum(1 for x in route if p.tasks[int(p.node_task[x])][0] == x)
        if p.vehicle_max_tasks is not None and n_tasks > int(p.vehicle_max_tasks[k]):
            out.problems.append(f"vehicle {k}: {n_tasks} tasks > most {p.vehicle_max_tasks[k]}")
        if route:
            cm = p.cost_matrix(p.vehicle_mode[k])
            path = [int(p.vehicle_start[k]), *route, int(p.vehicle_end[k])]
            cost += sum(int(cm[a, b]) for a, b in zip(path, path[1:], strict=False))
    dropped = set(sol.dropped)
    for t, nodes in enumerate(p.tasks):
        seen = [x in where for x in nodes]
        if any(seen) and not all(seen):
            out.problems.append(f"task {t}: only part of the pair is served")
        elif all(seen):
            if t in dropped:
                out.problems.append(f"task {t}: served but listed as dropped")
            if len(nodes) == 2:
                (kp, ip), (kd, idl) = where[nodes[0]], where[nodes[1]]
                if kp != kd:
                    out.problems.append(f"task {t}: pickup on vehicle {kp}, delivery on {kd}")
                elif idl < ip:
                    out.problems.append(f"task {t}: delivery before its pickup on vehicle {kp}")
        else:
            if t not in dropped:
                out.problems.append(f"task {t}: neither served nor listed as dropped")
            if p.task_penalty is None:
                out.problems.append(f"task {t}: mandatory but not served")
    if cost != sol.cost:
        out.problems.append(f"reported cost {sol.cost} != recomputed {cost}")
    return out
