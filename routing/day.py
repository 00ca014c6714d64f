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
from .deadline import Deadline
from .halls import attach_hall_intervals, hall_day_intervals, screen_errands
from .plan import DayPlan, make_plan
from .repair import insert_dropped
from .solver import RoutingSolverError, Solution, SolveParams, solve
from .tables import Errand, Runner
from .validate import validate_solution

__all__ = ["plan_day", "PlanCheckError", "AFTER_SOLVE_SHARE", "MIN_SOLVE_S"]

log = logging.getLogger(__name__)

#: Share of the time left after the matrices kept back from the solver for the repair and the
#: independent check (the repair stops at the deadline; the check always runs).
AFTER_SOLVE_SHARE = 0.1
#: The solver gets at least this many seconds, even when the matrices used up the budget.
MIN_SOLVE_S = 0.5
#: Seconds OR-Tools takes to take in one matrix entry (building its model), measured at 3,582
#: nodes on the 2-core test machine (37 s for six registered matrices); see docs/benchmarks.md.
MODEL_S_PER_ENTRY = 5e-7


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
        When the whole run (matrices, solve, repair, check) must end; the solver gets what the
        matrices left, less :data:`AFTER_SOLVE_SHARE` for the repair and the check.

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
    day = attach_hall_intervals(build_day_problem(kept, runners, outlets, matrices), hall_open,
                                closed=closed, errands=errands)
    t1 = time.monotonic()
    solve_s = max(MIN_SOLVE_S, deadline.remaining() * (1 - AFTER_SOLVE_SHARE))
    sol = None
    build_s = model_seconds(day.problem.n_nodes, len(set(day.problem.vehicle_mode)))
    if day.problem.tasks and build_s > 0.5 * deadline.remaining():
        log.warning("%d stops: the solver's model alone would take about %.0f s of the %.0f s "
                    "left; the greedy insertion plans what it can by the time limit",
                    day.problem.n_nodes, build_s, deadline.remaining())
        sol = Solution(tuple(() for _ in runners), tuple(range(len(day.problem.tasks))), 0,
                       "greedy")
    elif day.problem.tasks:
        try:
            sol = solve(day.problem, replace(params, time_limit_s=solve_s))
        except RoutingSolverError as exc:  # no first plan in time: the repair fills what it can
            log.warning("%s", exc)
            sol = Solution(tuple(() for _ in runners), tuple(range(len(day.problem.tasks))), 0,
                           "timeout")
    if sol is None:  # nothing to route: every errand was dropped before solving
        sol = Solution(tuple(() for _ in runners), (), 0, "empty")
    t2 = time.monotonic()
    sol = insert_dropped(day.problem, sol, deadline=deadline)
    t3 = time.monotonic()
    check = validate_solution(day.problem, sol)
    if not check.ok:
        raise PlanCheckError("plan check failed: " + "; ".join(check.problems[:5]))
    plan = make_plan(day, sol, check, date=date, region=region,
                     time_limit_s=deadline.limit_s)
    plan.left_out = {e.id: e for e in errands if e.id in plan.dropped}  # for the workbook
    plan.meta = {"build_s": round(t1 - t0, 2), "solve_s": round(t2 - t1, 2),
                 "repair_s": round(t3 - t2, 2), "check_s": round(time.monotonic() - t3, 2)}
    log.info("%s", plan.summary())
    return plan
