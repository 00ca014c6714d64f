"""Greedy insertion after (or instead of) the search: put left-out tasks where the check accepts.

OR-Tools stops at a time limit, or is not run at all when its model alone would not be built in
the time left (:mod:`routing.day`); a task it left out may still fit somewhere. Each left-out
task (most costly to leave out first, then the earliest deadline) goes into its cheapest
position that the independent schedule check (:func:`routing.validate.schedule_route`), skills,
load and most-tasks accept.

Finding that position is array work, not a loop over routes: every route keeps, per stop, the
earliest time it is done there and the latest time its service may start so that the rest of
the route still holds (windows, halls' hours, shift end). One numpy pass over every gap of every
allowed runner's route then screens all single insertions of a node (and, for a pickup and
delivery, the pair put next to each other, or the best later gap for the delivery). The screen
ignores only the break and the load, so it never rejects a feasible insertion; the candidates it
passes are confirmed by the exact check, cheapest first (at most :data:`CHECKS_PER_TASK`). A
task that still fits nowhere may
take the place of a planned task of no higher priority on one of its runners, if that task then
fits on another runner (a one-step ejection chain; bounded by a count of schedule checks). So a
task the plan leaves out has no single feasible insertion into the final routes, and no such
swap was found within the bound.

The repair stops at the run's :class:`~routing.deadline.Deadline`; the tasks it has not tried
by then are returned as *untried* (:class:`Repaired`), and the day gives them the reason
"time limit reached" (:data:`routing.reasons.TIME_LIMIT`), not "fully booked".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from .deadline import Deadline
from .problem import RoutingProblem
from .solver import Solution
from .validate import schedule_route

__all__ = ["insert_dropped", "repair", "Repaired"]

log = logging.getLogger(__name__)

_NEVER = np.int64(1) << 40  # "no time works" in the screens (far beyond any horizon)
#: Exact checks per task in the insertion pass, cheapest screened candidates first. The screen
#: ignores the break, so a candidate can fail the exact check; past this many the task waits
#: for the swap step (measured at 2,000 errands: without a bound, 20 checks per task on average
#: and 90 % of the repair's time in them).
CHECKS_PER_TASK = 8


@dataclass(frozen=True)
class Repaired:
    """Result of :func:`repair`: the plan, and the tasks the deadline left untried."""

    solution: Solution
    untried: frozenset[int]


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


def _exact_ok(p: RoutingProblem, k: int, route: tuple[int, ...]) -> bool:
    return _fits_load(p, k, route) and not schedule_route(p, k, route)[3]


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

    Every position is tried with the exact check (the swap step's small searches); each check
    spends one unit of ``budget``, and when it is used up the search stops early.
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
            if _exact_ok(p, k, cand):
                best = (delta, cand)
    return best


class _Screen:
    """Per-route earliest/latest times and the gaps of every route, for array screening."""

    def __init__(self, p: RoutingProblem, routes: list[tuple[int, ...]]) -> None:
        self.p = p
        self.modes = sorted(set(p.vehicle_mode))
        self.mode_of = np.array([self.modes.index(m) for m in p.vehicle_mode], dtype=np.int64)
        self.lo = np.asarray(p.windows[:, 0], dtype=np.int64)
        self.hi = np.asarray(p.windows[:, 1], dtype=np.int64)
        self.svc = np.asarray(p.service, dtype=np.int64)
        self.opens = {k: (np.array([a for a, _ in v], dtype=np.int64),
                          np.array([b for _, b in v], dtype=np.int64))
                      for k, v in (p.node_open or {}).items()}
        self.gaps: list[tuple[np.ndarray, ...]] = [()] * p.n_vehicles
        for k, r in enumerate(routes):
            self.update(k, r)
        self._flat: tuple[np.ndarray, ...] | None = None

    # -- times along one route (no break: the screen is a relaxation) --------------------
    def _earliest_open(self, x: int, t: np.ndarray) -> np.ndarray:
        """Earliest valid service start >= t at node x (``_NEVER`` when none in its hours)."""
        if x not in self.opens:
            return t
        los, his = self.opens[x]
        i = np.searchsorted(his, t, side="left")
        ok = i < len(his)
        return np.where(ok, np.maximum(t, los[np.minimum(i, len(los) - 1)]), _NEVER)

    def _latest_open(self, x: int, t: int) -> int:
        """Latest valid service start <= t at node x (``-_NEVER`` when none)."""
        if x not in self.opens:
            return t
        los, his = self.opens[x]
        i = int(np.searchsorted(los, t, side="right")) - 1
        return int(min(t, his[i])) if i >= 0 else -int(_NEVER)

    def update(self, k: int, route: tuple[int, ...]) -> None:
        """Recompute route ``k``'s gap arrays after a change."""
        p = self.p
        tr = p.travel[p.vehicle_mode[k]]
        path = [int(p.vehicle_start[k]), *route, int(p.vehicle_end[k])]
        done = np.empty(len(path) - 1, dtype=np.int64)  # finish time at path[i], i < last
        t = int(p.vehicle_shift[k, 0])
        done[0] = t
        for i in range(1, len(path) - 1):
            a, b = path[i - 1], path[i]
            s = max(t + int(tr[a, b]), int(self.lo[b]))
            s = int(self._earliest_open(b, np.array([s], dtype=np.int64))[0])
            t = s + int(self.svc[b])
            done[i] = t
        late = np.empty(len(path), dtype=np.int64)  # latest start (arrival at the end depot)
        late[-1] = int(p.vehicle_shift[k, 1])
        for i in range(len(path) - 2, 0, -1):
            b, c = path[i], path[i + 1]
            v = min(int(self.hi[b]), int(late[i + 1]) - int(tr[b, c]) - int(self.svc[b]))
            late[i] = self._latest_open(b, v)
        arr = np.asarray(path, dtype=np.int64)
        self.gaps[k] = (np.full(len(path) - 1, k, dtype=np.int64), arr[:-1], arr[1:], done,
                        late[1:], np.arange(len(path) - 1, dtype=np.int64))
        self._flat = None

    def flat(self) -> tuple[np.ndarray, ...]:
        """Every gap of every route (vehicle, from, to, done at from, latest at to, position)."""
        if self._flat is None:
            self._flat = tuple(np.concatenate(parts) for parts in zip(*self.gaps, strict=True))
        return self._flat

    # -- screens --------------------------------------------------------------------------
    def _legs(self, gm: np.ndarray, a: np.ndarray, x: int, b: np.ndarray, cost: bool
              ) -> tuple[np.ndarray, np.ndarray]:
        """Per gap, mode-wise: time (or cost) a -> x and x -> b."""
        into = np.empty(len(a), dtype=np.int64)
        out = np.empty(len(a), dtype=np.int64)
        for mi, mode in enumerate(self.modes):
            sel = gm == mi
            if not sel.any():
                continue
            m = self.p.cost_matrix(mode) if cost else self.p.travel[mode]
            into[sel] = m[a[sel], x]
            out[sel] = m[x, b[sel]]
        return into, out

    def _arc(self, gm: np.ndarray, a: np.ndarray, b: np.ndarray, cost: bool) -> np.ndarray:
        res = np.empty(len(a), dtype=np.int64)
        for mi, mode in enumerate(self.modes):
            sel = gm == mi
            if sel.any():
                m = self.p.cost_matrix(mode) if cost else self.p.travel[mode]
                res[sel] = m[a[sel], b[sel]]
        return res

    def _serve(self, x: int, ready: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Arriving at ``ready``: service start at x, and whether it keeps x's window/hours."""
        s = self._earliest_open(x, np.maximum(ready, self.lo[x]))
        return s, s <= self.hi[x]

    def single(self, x: int, sel: np.ndarray, gm: np.ndarray, a: np.ndarray, b: np.ndarray,
               done: np.ndarray, late: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gaps where x alone fits (relaxed), and the cost deltas."""
        t_in, t_out = self._legs(gm, a, x, b, cost=False)
        s, ok = self._serve(x, done + t_in)
        ok &= s + self.svc[x] + t_out <= late
        c_in, c_out = self._legs(gm, a, x, b, cost=True)
        return ok & sel, c_in + c_out - self._arc(gm, a, b, cost=True)

    def pair_next(self, x: int, y: int, sel: np.ndarray, gm: np.ndarray, a: np.ndarray,
                  b: np.ndarray, done: np.ndarray, late: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Gaps where x then y, next to each other, fit (relaxed), and the cost deltas."""
        t_in, _ = self._legs(gm, a, x, b, cost=False)
        _, t_out = self._legs(gm, a, y, b, cost=False)
        xy = self._arc(gm, np.full(len(a), x), np.full(len(a), y), cost=False)
        sx, ok = self._serve(x, done + t_in)
        sy, ok_y = self._serve(y, sx + self.svc[x] + xy)
        ok &= ok_y & (sy + self.svc[y] + t_out <= late)
        c_in, _ = self._legs(gm, a, x, b, cost=True)
        _, c_out = self._legs(gm, a, y, b, cost=True)
        cxy = self._arc(gm, np.full(len(a), x), np.full(len(a), y), cost=True)
        return ok & sel, c_in + cxy + c_out - self._arc(gm, a, b, cost=True)


def _candidates(sc: _Screen, nodes: tuple[int, ...], vehicles: np.ndarray
                ) -> list[tuple[int, int, tuple[int, ...]]]:
    """Screened insertions ``(delta, vehicle, positions)``, cheapest first.

    ``positions`` are gap indices into the vehicle's path: ``(i,)`` for a single node,
    ``(i, i)`` for a pair next to each other, ``(i, j)`` with ``j > i`` otherwise.
    """
    gk, ga, gb, done, late, pos = sc.flat()
    sel = vehicles[gk]
    if not sel.any():
        return []
    gm = sc.mode_of[gk]
    if len(nodes) == 1:
        ok, delta = sc.single(nodes[0], sel, gm, ga, gb, done, late)
        idx = np.flatnonzero(ok)
        order = idx[np.argsort(delta[idx], kind="stable")]
        return [(int(delta[f]), int(gk[f]), (int(pos[f]),)) for f in order]
    x, y = nodes
    ok_n, d_n = sc.pair_next(x, y, sel, gm, ga, gb, done, late)
    ok_x, d_x = sc.single(x, sel, gm, ga, gb, done, late)
    ok_y, d_y = sc.single(y, sel, gm, ga, gb, done, late)
    cands: list[tuple[int, int, tuple[int, ...]]] = [
        (int(d_n[f]), int(gk[f]), (int(pos[f]), int(pos[f]))) for f in np.flatnonzero(ok_n)]
    px = np.flatnonzero(ok_x)
    if len(px) and ok_y.any():
        ends = np.searchsorted(gk, gk[px], side="right")  # first gap of the next route
        lengths = ends - px - 1
        total = int(lengths.sum())
        if total:
            first = np.repeat(px, lengths)
            step = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            second = first + 1 + step
            keep = ok_y[second]
            first, second = first[keep], second[keep]
            d = d_x[first] + d_y[second]
            cands += [(int(v), int(gk[f]), (int(pos[f]), int(pos[s])))
                      for v, f, s in zip(d, first, second, strict=True)]
    cands.sort(key=lambda c: c[0])
    return cands


def _place(route: tuple[int, ...], nodes: tuple[int, ...], at: tuple[int, ...]
           ) -> tuple[int, ...]:
    """The route with the task's nodes put into the gaps ``at`` (see :func:`_candidates`)."""
    if len(nodes) == 1:
        i = at[0]
        return route[:i] + (nodes[0],) + route[i:]
    i, j = at
    if i == j:
        return route[:i] + tuple(nodes) + route[i:]
    return route[:i] + (nodes[0],) + route[i:j] + (nodes[1],) + route[j:]


def repair(p: RoutingProblem, sol: Solution, *, swap_checks: int = 150_000,
           deadline: Deadline | None = None) -> Repaired:
    """Insert left-out tasks (see the module docstring).

    Parameters
    ----------
    p, sol
        The problem and the solver's plan (an empty plan when there was no solver).
    swap_checks
        Bound on the swap step, in schedule checks (not seconds: the result is the same on any
        machine when the deadline does not bind).
    deadline
        Stop here, keeping what was inserted so far (default: none).

    Returns
    -------
    Repaired
        The plan, and the tasks not tried before the deadline.
    """
    deadline = deadline or Deadline.never()
    if not sol.dropped:
        return Repaired(sol, frozenset())
    routes = [tuple(r) for r in sol.routes]
    first_of = {nodes[0] for nodes in p.tasks}
    counts = [sum(1 for x in r if x in first_of) for r in routes]
    most = (np.full(p.n_vehicles, np.iinfo(np.int64).max) if p.vehicle_max_tasks is None
            else np.asarray(p.vehicle_max_tasks, dtype=np.int64))
    pen = p.task_penalty if p.task_penalty is not None else np.zeros(len(p.tasks))
    sc = _Screen(p, routes)
    latest = {t: int(min(p.windows[x, 1] for x in p.tasks[t])) for t in sol.dropped}
    order = sorted(sol.dropped, key=lambda t: (-int(pen[t]), latest[t], t))
    left: list[int] = []
    untried: list[int] = []
    room = np.asarray(counts) < most
    for n_done, t in enumerate(order):
        if n_done % 8 == 0 and deadline.expired():
            untried = order[n_done:]
            break
        nodes = tuple(int(x) for x in p.tasks[t])
        vehicles = np.zeros(p.n_vehicles, dtype=bool)
        vehicles[list(p.allowed(t))] = True
        vehicles &= room
        placed = None
        for _delta, k, at in _candidates(sc, nodes, vehicles)[:CHECKS_PER_TASK]:
            cand = _place(routes[k], nodes, at)
            if _exact_ok(p, k, cand):
                placed = (k, cand)
                break
            if deadline.expired():
                break
        if placed is None:
            left.append(t)
            continue
        k, cand = placed
        routes[k] = cand
        counts[k] += 1
        room[k] = counts[k] < most[k]
        sc.update(k, cand)
    if untried:
        log.warning("repair stopped at the time limit; %d task(s) not tried", len(untried))
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
    left = sorted(still + list(untried))
    if len(left) == len(sol.dropped):
        return Repaired(sol, frozenset(untried))
    cost = sum(_route_cost(p, k, r) for k, r in enumerate(routes))
    return Repaired(replace(sol, routes=tuple(routes), dropped=tuple(left), cost=cost,
                            status=sol.status + "+repair"), frozenset(untried))


def insert_dropped(p: RoutingProblem, sol: Solution, *, swap_checks: int = 150_000,
                   deadline: Deadline | None = None) -> Solution:
    """The plan of :func:`repair` (without the list of untried tasks)."""
    return repair(p, sol, swap_checks=swap_checks, deadline=deadline).solution


def _without(route: tuple[int, ...], nodes) -> tuple[int, ...]:
    drop = set(nodes)
    return tuple(x for x in route if x not in drop)


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
