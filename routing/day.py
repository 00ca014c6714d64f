"""``plan_day``: errands + runners + outlets + travel times -> a validated :class:`DayPlan`."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from gis.errors import BianminError, InputError, InputProblem

from .build import build_day_problem
from .deadline import Deadline, TimeLimitReached
from .halls import attach_hall_intervals, hall_day_intervals, screen_errands
from .plan import DayPlan, RunnerRoute, make_plan
from .reasons import Reason, time_limit_reason
from .repair import repair
from .solver import RoutingSolverError, Solution, SolveParams, solve
from .tables import Errand, Runner
from .validate import PlanCheck, validate_solution

__all__ = ["plan_day", "PlanCheckError", "AFTER_SOLVE_SHARE", "MIN_SOLVE_S", "out_of_time_plan"]

log = logging.getLogger(__name__)

#: Share of the time left after the matrices (and the check's reserve) kept back from the
#: solver for the repair (the repair stops at its deadline; the check always runs).
AFTER_SOLVE_SHARE = 0.1
#: The solver gets at least this many seconds, even when the matrices used up the budget.
MIN_SOLVE_S = 0.5
#: Seconds OR-Tools takes to take in one matrix entry (building its model), measured at 3,582
#: nodes on the 2-core test machine (37 s for six registered matrices); see docs/benchmarks.md.
MODEL_S_PER_ENTRY = 5e-7
#: Seconds per task kept back for the independent check, the reasons and the plan tables (at
#: least :data:`CHECK_MIN_S`); measured about 0.3 ms per task at 2,000 errands on a loaded
#: 2-core machine, kept at 1 ms (see docs/benchmarks.md).
CHECK_S_PER_TASK = 1e-3
CHECK_MIN_S = 0.3
#: Seconds per task the greedy insertion needs to try every task (measured about 1.5 ms at
#: 2,000 errands and 150 runners on the loaded test machine): when the solver may come back
#: empty, this much stays for the greedy insertion so that it can still plan the whole day.
GREEDY_S_PER_TASK = 3e-3


def model_seconds(n_nodes: int, n_modes: int) -> float:
    """Estimated seconds to build the OR-Tools model (a time and a cost matrix per mode)."""
    return MODEL_S_PER_ENTRY * n_nodes * n_nodes * 2 * n_modes


class PlanCheckError(BianminError, RuntimeError):
    """The independent check found the solver's plan invalid (nothing must be written)."""


def plan_day(errands: list[Errand], runners: list[Runner], outlets: pd.DataFrame, *,
             matrices: Callable[[np.ndarray, list[str]], dict[str, np.ndarray]],
             date: dt.date, region: str = "", params: SolveParams | None = None,
             deadline: Deadline | None = None) -> DayPlan:
    """Plan one day of errands.

    Parameters
    ----------
    errands, runners
        Validated records (see :mod:`routing.tables`).
    outlets
        ``id, name, lon, lat`` of bases and halls, and optionally ``hours`` (opening hours:
        every stop at a hall starts and ends its service inside an open interval of the date).
    matrices
        ``f(lonlat, modes) -> {mode: seconds (n, n)}`` (see :mod:`routing.matrix`).
    date
        The day (printed on the sheets).
    region
        Region name for the sheets.
    params
        Solver settings (default :class:`SolveParams`). Without ``deadline``, the run's budget
        is ``params.time_limit_s``.
    deadline
        When the whole run (matrices, solve, repair, check) must end. It is made active while
        the matrices are computed (a matrix function that gives up raises
        :class:`~routing.deadline.TimeLimitReached`: every errand is then left out with the
        reason "time limit reached", :func:`out_of_time_plan`). The check's reserve
        (:data:`CHECK_S_PER_TASK`) is kept back from the start; when the solver's model would
        not be built in half of what is left, the greedy insertion (:mod:`routing.repair`)
        plans the day alone, else the solver runs and leaves the repair at least
        :data:`AFTER_SOLVE_SHARE` or the greedy's own need (:data:`GREEDY_S_PER_TASK`).

    Returns
    -------
    DayPlan
        Routes with independently recomputed times and the errands left out with reasons.

    Raises
    ------
    PlanCheckError
        When the independent check rejects the solver's plan.
    """
    params = params or SolveParams()
    deadline = deadline or Deadline.after(params.time_limit_s)
    if not runners:
        raise InputError(InputProblem("runners", None, None, "no runners: expected at least one"))
    t0 = time.monotonic()
    hall_open = hall_day_intervals(outlets, date)  # halls' hours on the date (routing/halls.py)
    kept, closed = screen_errands(errands, hall_open, day=date, hall_names=dict(zip(
        outlets["id"].astype(str), outlets["name"].astype(str), strict=True)))
    try:
        with deadline.active():  # the matrices give up when it passes (routing/matrix.py)
            day = attach_hall_intervals(build_day_problem(kept, runners, outlets, matrices),
                                        hall_open, closed=closed, errands=errands)
    except TimeLimitReached as exc:
        log.warning("%s: no errand planned", exc)
        return out_of_time_plan(errands, runners, outlets, closed, date=date, region=region,
                                deadline=deadline, build_s=time.monotonic() - t0)
    t1 = time.monotonic()
    n_tasks = len(day.problem.tasks)
    reserve = max(CHECK_MIN_S, CHECK_S_PER_TASK * (n_tasks + len(errands)))
    left = max(0.0, deadline.remaining() - reserve)
    repair_by = deadline.earlier(reserve)
    sol = None
    build_s = model_seconds(day.problem.n_nodes, len(set(day.problem.vehicle_mode)))
    empty = Solution(tuple(() for _ in runners), tuple(range(n_tasks)), 0, "greedy")
    if n_tasks and build_s > 0.5 * left:
        log.warning("%d stops: the solver's model alone would take about %.0f s of the %.0f s "
                    "left; the greedy insertion plans what it can by the time limit",
                    day.problem.n_nodes, build_s, left)
        sol = empty
    elif n_tasks:
        keep = max(AFTER_SOLVE_SHARE * left, min(GREEDY_S_PER_TASK * n_tasks, 0.4 * left))
        try:
            sol = solve(day.problem, replace(params, time_limit_s=max(MIN_SOLVE_S, left - keep)))
        except RoutingSolverError as exc:  # no first plan in time: the greedy fills what it can
            log.warning("%s", exc)
            sol = replace(empty, status="timeout")
    if sol is None:  # nothing to route: every errand was dropped before solving
        sol = Solution(tuple(() for _ in runners), (), 0, "empty")
    t2 = time.monotonic()
    fixed = repair(day.problem, sol, deadline=repair_by)
    sol = fixed.solution
    t3 = time.monotonic()
    check = validate_solution(day.problem, sol)
    if not check.ok:
        raise PlanCheckError("plan check failed: " + "; ".join(check.problems[:5]))
    t4 = time.monotonic()
    plan = make_plan(day, sol, check, date=date, region=region,
                     time_limit_s=deadline.limit_s, untried=fixed.untried)
    plan.left_out = {e.id: e for e in errands if e.id in plan.dropped}  # for the workbook
    plan.meta = {"build_s": round(t1 - t0, 2), "solve_s": round(t2 - t1, 2),
                 "repair_s": round(t3 - t2, 2), "check_s": round(t4 - t3, 2),
                 "plan_s": round(time.monotonic() - t4, 2), "untried": len(fixed.untried)}
    log.info("%s", plan.summary())
    return plan


def out_of_time_plan(errands: list[Errand], runners: list[Runner], outlets: pd.DataFrame,
                     closed: dict[str, Reason], *, date: dt.date, region: str,
                     deadline: Deadline, build_s: float) -> DayPlan:
    """The plan when the time limit came before the travel times: nobody goes anywhere.

    Every errand is left out, with its hall-closed reason where it has one and
    "time limit reached" (:func:`routing.reasons.time_limit_reason`) otherwise.
    """
    out = outlets.assign(id=outlets["id"].astype(str)).set_index("id")
    routes = []
    for r in runners:
        routes.append(RunnerRoute(
            runner_id=r.id, runner_name=r.name, mode=r.mode, base_id=r.base_outlet_id,
            base_name=str(out.at[r.base_outlet_id, "name"]),
            base_lon=float(out.at[r.base_outlet_id, "lon"]),
            base_lat=float(out.at[r.base_outlet_id, "lat"]), shift=r.shift, stops=[],
            return_s=r.shift[0], travel_s=0, break_start_s=None,
            break_s=0 if r.lunch is None else r.lunch[2], illustrative=r.illustrative))
    late = time_limit_reason("matrices")
    reasons = {e.id: closed.get(e.id, late) for e in errands}
    plan = DayPlan(date, region, routes, {k: str(v) for k, v in reasons.items()}, PlanCheck(),
                   "time limit", deadline.limit_s,
                   any(e.illustrative for e in errands) or any(r.illustrative for r in runners),
                   reasons=reasons)
    plan.left_out = {e.id: e for e in errands}  # every errand, for the workbook
    plan.meta = {"build_s": round(build_s, 2), "solve_s": 0.0, "repair_s": 0.0, "check_s": 0.0,
                 "plan_s": 0.0, "untried": len(errands) - len(closed)}
    log.info("%s", plan.summary())
    return plan
