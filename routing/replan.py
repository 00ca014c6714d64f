"""Re-planning during the day: the morning's plan + what happened by ``at`` -> a new plan.

Statuses (``STATUS.csv``: ``errand_id, status``):

``done``
    Its stops stay as they were, on the same runner, in the same order.
``picked_up``
    On board: the pickup is done; the delivery stays with the runner who carries it.
``failed``
    Out of today's plan (the ledger keeps the reason).
``new``
    A new errand; the row carries the errands table's columns (same checks as a file).

Errands not named keep their morning runner if they can (a cost of :data:`MOVE_PENALTY_S`
seconds for serving one on another runner) and the morning's left-outs get another chance.
Each runner starts from where the last done stop left them, at ``at``: a *now* stop at that
place with the window ``[at, ∞)``, locked after the done stops, so nothing left to do can be
put before ``at``. The solver keeps the done stops and the now stop (OR-Tools locks, the
``NextVar`` chain fixed), starts from the morning's routes (a warm start), and the independent
check validates the whole day, done part included.

``plan.json`` holds no personal data, so the errands' details come again from the errands file
or the ledger: :func:`replan_day` takes the plan's public dict plus the errand records.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from gis.errors import InputError, InputProblem

from .build import PRIORITY_PENALTY_S, build_day_problem
from .day import PlanCheckError
from .deadline import Deadline
from .halls import attach_hall_intervals, hall_day_intervals, screen_errands
from .plan import DayPlan, make_plan
from .problem import RoutingProblem
from .reasons import Reason
from .solver import SolveParams, solve_from_routes
from .tables import DAY, Errand, Runner, errands_from_frame, fmt_hhmm, read_table
from .validate import schedule_route, validate_solution

__all__ = ["STATUSES", "MOVE_PENALTY_S", "NOW_PREFIX", "read_status", "replan_day",
           "changed_runner"]

log = logging.getLogger(__name__)

STATUSES = ("done", "picked_up", "failed", "new")
#: Cost, in seconds of travel, of serving a planned errand on another runner than the morning's.
MOVE_PENALTY_S = 1800
#: Errand ids of the runners' *now* stops (never shown: stripped from the plan).
NOW_PREFIX = "__now__:"
_LOCKED_PENALTY = 10 * PRIORITY_PENALTY_S[1]
#: Priority of a ``new`` errand when STATUS.csv has no ``priority`` column (1 most urgent - 3).
NEW_PRIORITY = 2


def read_status(path: str, *, hall_ids: tuple[str, ...] = (),
                bbox: tuple[float, float, float, float] | None = None
                ) -> tuple[dict[str, str], list[Errand]]:
    """Read ``STATUS.csv``: errand id -> status, and the new errands (validated as a file's).

    The ``new`` rows carry the errands table's columns, ``errand_id`` for ``id``; ``priority``
    is optional here (:data:`NEW_PRIORITY` when the file has no such column). Problems name
    the columns as the file has them.

    Raises
    ------
    InputError
        Unknown statuses, missing ids, an id twice, new errands' problems — all at once.
    """
    df = read_table(path)
    first = int(df.attrs.get("first_row", 1))
    problems: list[InputProblem] = []
    for col in ("errand_id", "status"):
        if col not in df.columns:
            problems.append(InputProblem(str(path), None, col, f"missing column {col!r}"))
    if problems:
        raise InputError(problems)
    status: dict[str, str] = {}
    for i, (eid, st) in enumerate(zip(df["errand_id"], df["status"], strict=True)):
        eid, st = str(eid).strip(), str(st).strip().lower()
        if not eid:
            problems.append(InputProblem(str(path), i + first, "errand_id", "empty errand id"))
        elif eid in status:
            problems.append(InputProblem(str(path), i + first, "errand_id",
                                         f"errand {eid!r} named twice"))
        if st not in STATUSES:
            problems.append(InputProblem(str(path), i + first, "status", f"{st!r}: expected "
                                         f"one of {', '.join(STATUSES)}"))
        status[eid] = st
    new: list[Errand] = []
    rows = df[df["status"].astype(str).str.strip().str.lower() == "new"]
    if len(rows):
        frame = rows.drop(columns=["status"]).rename(columns={"errand_id": "id"})
        frame = frame.drop(columns=[c for c in ("id_",) if c in frame]).reset_index(drop=True)
        if "priority" not in frame.columns:  # optional here: a new errand is of middle urgency
            frame["priority"] = str(NEW_PRIORITY)
        frame.attrs["first_row"] = first
        try:
            new = errands_from_frame(frame, file=str(path), hall_ids=hall_ids, bbox=bbox)
        except InputError as exc:
            problems += [_as_written(p, list(df.columns)) for p in exc.problems]
    if problems:
        raise InputError(problems)
    return status, new


def _as_written(p: InputProblem, columns: list[str]) -> InputProblem:
    """A new errand's problem named in STATUS.csv's own terms (``errand_id``, its columns)."""
    column = "errand_id" if p.column == "id" else p.column
    message = p.message
    if p.row is None and message.startswith("missing column"):
        message = f"missing column (the 'new' rows need it); the file has {columns}"
    return InputProblem(p.file, p.row, column, message)


def _reason(code: str, zh: str, en: str, basis: str) -> Reason:
    return Reason(code, zh, en, basis)


def changed_runner(before: dict, after: DayPlan) -> dict[str, tuple[str, str]]:
    """Errands served in both plans by different runners: id -> (before, after)."""
    b = {s["errand_id"]: r["runner_id"] for r in before["routes"] for s in r["stops"]}
    a = {s.errand_id: r.runner_id for r in after.routes for s in r.stops}
    return {e: (b[e], a[e]) for e in b.keys() & a.keys() if b[e] != a[e]}


def _feasible_start(p: RoutingProblem, k: int, lock: list[int], rest: list[int]
                    ) -> tuple[int, ...]:
    """The morning's rest of a route, less the tasks that no longer fit after ``at``.

    On-board deliveries (their pickup is locked) always stay; other tasks are kept in the
    morning's order one by one while the recomputed schedule stays feasible.
    """
    task = p.node_task
    locked = {int(task[x]) for x in lock}
    keep = {int(task[x]) for x in rest if int(task[x]) in locked}
    for t in dict.fromkeys(int(task[x]) for x in rest):
        if t in keep:
            continue
        trial = [*lock, *(x for x in rest if int(task[x]) in keep | {t})]
        if not schedule_route(p, k, tuple(trial))[3]:
            keep.add(t)
    return (*lock, *(x for x in rest if int(task[x]) in keep))


def _insert_new(p: RoutingProblem, start: list[tuple[int, ...]], locks: list[tuple[int, ...]],
                tasks: list[int]) -> list[tuple[int, ...]]:
    """Put the new errands into the warm start: cheapest feasible place after the locks."""
    routes = list(start)
    for t in tasks:
        nodes = p.tasks[t]
        best: tuple[int, int, tuple[int, ...]] | None = None
        for k in p.allowed(t):
            r, lo = routes[k], len(locks[k])
            if not locks[k]:
                continue
            n_tasks = sum(1 for x in r if p.tasks[int(p.node_task[x])][0] == x)
            if p.vehicle_max_tasks is not None and n_tasks >= int(p.vehicle_max_tasks[k]):
                continue
            tr = p.travel[p.vehicle_mode[k]]
            for i in range(lo, len(r) + 1):
                js = [i] if len(nodes) == 1 else range(i, len(r) + 1)
                for j in js:
                    cand = (*r[:i], nodes[0], *r[i:j],
                            *(nodes[1:] if len(nodes) == 2 else ()), *r[j:])
                    path = [int(p.vehicle_start[k]), *cand, int(p.vehicle_end[k])]
                    cost = int(sum(int(tr[a, b]) for a, b in itertools.pairwise(path)))
                    if best is not None and cost >= best[0]:
                        continue
                    if not schedule_route(p, k, cand)[3]:
                        best = (cost, k, cand)
        if best is not None:
            routes[best[1]] = best[2]
    return routes


def replan_day(morning: dict, errands: list[Errand], runners: list[Runner],
               outlets: pd.DataFrame, *, status: dict[str, str], new: list[Errand], at: int,
               matrices: Callable[[np.ndarray, list[str]], dict[str, np.ndarray]],
               date: dt.date | None = None, region: str = "",
               params: SolveParams | None = None, deadline: Deadline | None = None,
               move_penalty_s: int = MOVE_PENALTY_S) -> DayPlan:
    """Re-plan the rest of a day at ``at`` (seconds after midnight).

    Parameters
    ----------
    morning
        The morning's plan as ``plan.json`` holds it (:func:`routing.io.public_plan`).
    errands, runners
        The day's errand and runner records (from the files or the ledger); the morning
        plan's errands must be among them.
    outlets
        ``id, name, lon, lat`` (and ``hours``) of bases and halls.
    status
        Errand id -> one of :data:`STATUSES` (errands not named are still to do).
    new
        The new errands (records; their ids have status ``new``).
    at
        The re-plan time.
    matrices, date, region, params, deadline
        As :func:`routing.day.plan_day` (``date`` defaults to the morning plan's).
    move_penalty_s
        Cost of moving a planned errand to another runner.

    Returns
    -------
    DayPlan
        Done stops first (as they were), then the rest; ``meta`` names the done, on-board,
        failed and moved errands and ``at``.

    Raises
    ------
    InputError
        Statuses that contradict the plan (done but never planned, an id nobody knows, …).
    PlanCheckError
        When the independent check rejects the new plan.
    """
    params = params or SolveParams()
    deadline = deadline or Deadline.after(params.time_limit_s)
    date = date or dt.date.fromisoformat(morning["date"])
    by_id = {e.id: e for e in errands}
    runner_ids = [r.id for r in runners]
    plan_routes = {r["runner_id"]: [(s["errand_id"], s["role"]) for s in r["stops"]]
                   for r in morning["routes"]}
    carrier = {eid: rid for rid, stops in plan_routes.items() for eid, _ in stops}
    problems: list[InputProblem] = []
    for rid in plan_routes:
        if rid not in runner_ids:
            problems.append(InputProblem("runners", None, "id", f"runner {rid!r} of the "
                                         "morning plan is not among the runners"))
    for eid in carrier:
        if eid not in by_id:
            problems.append(InputProblem("errands", None, "id", f"errand {eid!r} of the "
                                         "morning plan is not among the errands"))
    for eid, st in status.items():
        if st == "new":
            if eid in by_id:
                problems.append(InputProblem("status", None, "errand_id",
                                             f"new errand {eid!r} already exists"))
        elif eid not in by_id:
            problems.append(InputProblem("status", None, "errand_id",
                                         f"unknown errand {eid!r}"))
        elif st in ("done", "picked_up") and eid not in carrier:
            problems.append(InputProblem("status", None, "status", f"errand {eid!r} is "
                                         f"{st} but was on nobody's route"))
        elif st == "picked_up" and not by_id[eid].is_pair:
            problems.append(InputProblem("status", None, "status", f"errand {eid!r} is a "
                                         "home visit: nothing to pick up (use done)"))
    if problems:
        raise InputError(problems)
    new_ids = {e.id for e in new}
    missing_new = {e for e, s in status.items() if s == "new"} - new_ids
    if missing_new:
        raise InputError(InputProblem("status", None, "errand_id", f"new errand(s) "
                                      f"{', '.join(sorted(missing_new))} without details"))

    def is_done(eid: str, role: str) -> bool:
        st = status.get(eid)
        return st == "done" or (st == "picked_up" and role == "pickup")

    # what each runner has done, in the morning's order, and where they are now
    done_stops = {rid: [(e, ro) for e, ro in plan_routes.get(rid, []) if is_done(e, ro)]
                  for rid in runner_ids}
    locked_ids = {e for e, s in status.items() if s in ("done", "picked_up")}
    failed = sorted(e for e, s in status.items() if s == "failed")
    on_shift = [r.shift[1] > at for r in runners]
    hall_open = hall_day_intervals(outlets, date)
    names = dict(zip(outlets["id"].astype(str), outlets["name"].astype(str), strict=True))
    hhmm = fmt_hhmm(at)
    late_onboard: list[str] = []
    todo: list[Errand] = []
    pre: dict[str, Reason] = {}
    for e in [*errands, *new]:
        if e.id in locked_ids or e.id in failed:
            continue
        w_hi = e.pickup_window[1] if not e.is_pair else min(e.pickup_window[1],
                                                            e.delivery_window[1])
        if w_hi < at:
            pre[e.id] = _reason("shift", f"时间窗已过：{fmt_hhmm(w_hi)} 前须完成，重排时间 "
                                f"{hhmm}", f"window over: it had to be served by "
                                f"{fmt_hhmm(w_hi)}, re-planned at {hhmm}", "window passed")
        elif not any(on_shift):
            pre[e.id] = _reason("shift", f"{hhmm} 后没有当班跑手", f"no runner on shift "
                                f"after {hhmm}", "no runner on shift")
        else:
            todo.append(e)
    kept, closed = screen_errands(todo, hall_open, day=date, hall_names=names)
    locked: list[Errand] = []
    for e in errands:
        if e.id in locked_ids:
            if status[e.id] == "picked_up" and e.delivery_window[1] < at:
                late_onboard.append(e.id)  # on board, already late: deliver as soon as can be
                e = replace(e, delivery_window=(e.delivery_window[0], DAY))
            locked.append(e)
    nows: list[Errand] = []
    anchor: dict[str, tuple[str, str] | None] = {}
    for r, ok in zip(runners, on_shift, strict=True):
        if not ok:
            continue
        base = outlets.loc[outlets["id"].astype(str) == r.base_outlet_id].iloc[0]
        nows.append(Errand(NOW_PREFIX + r.id, "home_visit", (float(base["lon"]),
                                                             float(base["lat"])), None, "",
                           (max(at, r.shift[0]), DAY), (0, DAY), 0, "", 1))
        anchor[r.id] = done_stops[r.id][-1] if done_stops[r.id] else None
    day = build_day_problem([*locked, *kept, *nows], runners, outlets, matrices)
    day = attach_hall_intervals(day, hall_open, closed={**closed, **pre},
                                errands=[*errands, *new])
    p = day.problem
    node_of = {(s.errand_id, s.role): s.node for s in day.stops if s.errand_id}
    k_of = {rid: k for k, rid in enumerate(runner_ids)}
    # the now stops: the anchor's place (a copy of its travel rows), this runner only
    for rid, anc in anchor.items():
        k, now = k_of[rid], node_of[(NOW_PREFIX + rid, "visit")]
        src = node_of[anc] if anc is not None else int(p.vehicle_start[k])
        for mat in p.travel.values():
            mat[now, :] = mat[src, :]
            mat[:, now] = mat[:, src]
            mat[now, now] = mat[src, now] = mat[now, src] = 0
    assert p.task_penalty is not None  # build_day_problem sets one per task
    allowed, penalty = list(p.task_vehicles or [None] * len(p.tasks)), p.task_penalty.copy()
    working = tuple(k for k, ok in enumerate(on_shift) if ok)
    for t, eid in enumerate(day.task_errand):
        if eid.startswith(NOW_PREFIX):
            allowed[t], penalty[t] = (k_of[eid[len(NOW_PREFIX):]],), _LOCKED_PENALTY
        elif eid in locked_ids:
            allowed[t], penalty[t] = (k_of[carrier[eid]],), _LOCKED_PENALTY
        else:
            allowed[t] = tuple(k for k in (allowed[t] or working) if k in working) or working
    p = replace(p, task_vehicles=tuple(allowed), task_penalty=penalty,
                vehicle_max_tasks=None if p.vehicle_max_tasks is None
                else p.vehicle_max_tasks + 1)
    day.problem = p
    # locks: the done stops, then the now stop; the warm start adds the morning's rest
    locks: list[tuple[int, ...]] = []
    start: list[tuple[int, ...]] = []
    home = np.full(p.n_nodes, -1, dtype=np.int64)
    for k, rid in enumerate(runner_ids):
        lock = [node_of[s] for s in done_stops[rid]]
        if (NOW_PREFIX + rid, "visit") in node_of:
            lock.append(node_of[(NOW_PREFIX + rid, "visit")])
        rest = [node_of[s] for s in plan_routes.get(rid, []) if s in node_of
                and not is_done(*s) and node_of[s] not in lock]
        for x in rest:
            home[x] = k
        locks.append(tuple(lock))
        start.append(_feasible_start(p, k, lock, rest))
    start = _insert_new(p, start, locks, [t for t, e in enumerate(day.task_errand)
                                          if status.get(e) == "new"])
    solve_s = max(0.5, deadline.remaining() * 0.9)
    sol = solve_from_routes(p, tuple(start), locks=tuple(locks),
                            params=replace(params, time_limit_s=solve_s),
                            move_penalty=move_penalty_s, home=home)
    if sol is None:
        raise PlanCheckError(f"the re-plan found no plan within {solve_s:.0f} s")
    for k, held in enumerate(locks):
        if tuple(sol.routes[k][:len(held)]) != held:
            raise PlanCheckError(f"re-plan check failed: runner {runner_ids[k]}'s done stops "
                                 "were changed")
    check = validate_solution(p, sol)
    if not check.ok:
        raise PlanCheckError("re-plan check failed: " + "; ".join(check.problems[:5]))
    plan = make_plan(day, sol, check, date=date, region=region or morning.get("region", ""),
                     time_limit_s=deadline.limit_s)
    for route in plan.routes:  # the now stops are bookkeeping, not visits
        route.stops = [s for s in route.stops if not s.errand_id.startswith(NOW_PREFIX)]
        for j, s in enumerate(route.stops):
            s.order = j + 1
    moved = changed_runner(morning, plan)
    plan.meta = {"replan_at": hhmm, "done": sorted(e for e, s in status.items() if s == "done"),
                 "picked_up": sorted(e for e, s in status.items() if s == "picked_up"),
                 "failed": failed, "new": sorted(new_ids), "moved": sorted(moved),
                 "late_on_board": late_onboard}
    log.info("re-plan at %s: %d served, %d left out, %d moved to another runner", hhmm,
             plan.n_served, len(plan.dropped), len(moved))
    return plan


def replan_region_routes(reg: object, morning: dict, *, status: dict[str, str],
                         new: list[Errand], at: int, errands: list[Errand] | None = None,
                         runners: list[Runner] | None = None,
                         errands_path: str | None = None, runners_path: str | None = None,
                         time_limit: float = 20.0, seed: int = 0, n_errands: int = 60,
                         n_runners: int = 8) -> DayPlan:
    """The region bridge for :func:`replan_day`: the region's outlets and road network.

    The errands and runners are the records given (e.g. from the ledger), else read from the
    files, else the region's own, else the same illustrative ones the morning used (same
    ``seed`` and counts).
    """
    from functools import partial

    from .demo import demo_errands, demo_runners
    from .matrix import network_matrices
    from .region_day import errand_bbox, region_outlets
    from .tables import runners_from_frame

    deadline = Deadline.after(time_limit)
    outlets, bases = region_outlets(reg)  # type: ignore[arg-type]
    modes = tuple(reg.network.modes)  # type: ignore[attr-defined]
    if errands is None:
        bbox = errand_bbox(reg)  # type: ignore[arg-type]
        path = errands_path or reg.errands_path  # type: ignore[attr-defined]
        frame = (read_table(path) if path is not None else
                 demo_errands(outlets, reg.demand, n=n_errands, seed=seed))  # type: ignore[attr-defined]
        errands = errands_from_frame(frame, file=str(path or "demo errands"),
                                     hall_ids=outlets["id"], bbox=bbox)
    if runners is None:
        path = runners_path or reg.runners_path  # type: ignore[attr-defined]
        frame = (read_table(path) if path is not None else
                 demo_runners(bases, n=n_runners, seed=seed, modes=modes))
        runners = runners_from_frame(frame, file=str(path or "demo runners"),
                                     base_ids=outlets["id"], modes=modes)
    return replan_day(morning, errands, runners, outlets, status=status, new=new, at=at,
                      matrices=partial(network_matrices, reg.network),  # type: ignore[attr-defined]
                      region=reg.name,  # type: ignore[attr-defined]
                      params=SolveParams(time_limit_s=time_limit), deadline=deadline)
