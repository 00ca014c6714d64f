"""``plan_day``: errands + runners + outlets + travel times -> a validated :class:`DayPlan`."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from .build import build_day_problem
from .halls import attach_hall_intervals, hall_day_intervals, screen_errands
from .plan import DayPlan, make_plan
from .repair import insert_dropped
from .solver import SolveParams, solve
from .tables import Errand, Runner
from .validate import validate_solution

__all__ = ["plan_day", "PlanCheckError"]

log = logging.getLogger(__name__)


class PlanCheckError(RuntimeError):
    """The independent check found the solver's plan invalid (nothing must be written)."""


def plan_day(errands: list[Errand], runners: list[Runner], outlets: pd.DataFrame, *,
             matrices: Callable[[np.ndarray, list[str]], dict[str, np.ndarray]],
             date: dt.date, region: str = "", params: SolveParams | None = None) -> DayPlan:
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
        Solver settings (default: 30 s, single thread).

    Returns
    -------
    DayPlan
        Routes with independently recomputed times and the errands left out with reasons.

    Raises
    ------
    PlanCheckError
        When the independent check rejects the solver's plan.
    """
    params = params or SolveParams(time_limit_s=30.0)
    if not runners:
        raise ValueError("Expected at least one runner.")
    t0 = time.monotonic()
    hall_open = hall_day_intervals(outlets, date)  # halls' hours on the date (routing/halls.py)
    kept, closed = screen_errands(errands, hall_open, day=date, hall_names=dict(zip(
        outlets["id"].astype(str), outlets["name"].astype(str), strict=True)))
    day = attach_hall_intervals(build_day_problem(kept, runners, outlets, matrices), hall_open,
                                closed=closed, errands=errands)
    t1 = time.monotonic()
    sol = solve(day.problem, params) if day.problem.tasks else None
    if sol is None:  # nothing to route: every errand was dropped before solving
        from .solver import Solution
        sol = Solution(tuple(() for _ in runners), tuple(() for _ in runners), (), 0, "empty")
    sol = insert_dropped(day.problem, sol)
    check = validate_solution(day.problem, sol)
    if not check.ok:
        raise PlanCheckError("plan check failed: " + "; ".join(check.problems[:5]))
    plan = make_plan(day, sol, check, date=date, region=region,
                     time_limit_s=params.time_limit_s)
    plan.meta = {"build_s": round(t1 - t0, 2), "solve_s": round(time.monotonic() - t1, 2)}
    log.info("%s", plan.summary())
    return plan
