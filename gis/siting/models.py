"""Coverage models solved with OR-Tools: maximal coverage (count or budget) and set covering.

Every model works on the reduced problem (see :func:`gis.siting.problem.reduce_cover`), reads
the solution with a 0.5 threshold and recomputes coverage from the original cover matrix, so a
reported number never depends on a solver's rounding.

Backends: a MIP through ``pywraplp`` (SCIP by default, HiGHS or CBC) or CP-SAT. Integer data is
required by CP-SAT only; weights and costs are scaled there once, explicitly (costs rounded up,
budgets down, so a budget is never exceeded). Allocation models (p-median, capacities) live in
:mod:`gis.siting.allocation`.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from ortools.sat.python import cp_model

from ._solver import (
    _INF,
    _check_limit,
    _cp_solve,
    _finish,
    _int_scale,
    _Mip,
    _rows,
    _uncoverable_message,
)
from .problem import (
    InfeasibleTargetError,
    SitingProblem,
    SitingResult,
    SolveParams,
    SolverError,
    reduce_cover,
)

__all__ = ["solve_mclp", "solve_set_cover", "solve_pmedian"]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- MCLP
def solve_mclp(problem: SitingProblem, *, p: int | None = None, budget: float | None = None,
               params: SolveParams | None = None,
               hint: np.ndarray | None = None) -> SitingResult:
    """Maximal covering: cover the most population with ``p`` new sites or within ``budget``.

    Parameters
    ----------
    problem
        The siting problem; required sites are kept and free of charge.
    p
        Number of new sites (at most ``p``; sites that add nobody are not opened).
    budget
        Upper bound on the summed cost of the new sites.
    params
        Solver parameters.
    hint
        Boolean mask over candidates: a starting solution (MIP hint / CP-SAT hint).

    Returns
    -------
    SitingResult
        Objective and bound are covered population including what required sites cover.
    """
    params = params or SolveParams()
    _check_limit(problem, p, budget)
    if problem.capacitated:
        from .allocation import solve_capacitated

        return solve_capacitated(problem, p=p, budget=budget, params=params)
    t0 = time.perf_counter()
    red = reduce_cover(problem, use_costs=budget is not None)
    n_g, n_f = red.cover.shape
    costs = problem.costs[red.free]
    rows = _rows(red.cover)
    hint_free = None if hint is None else np.asarray(hint, bool)[red.free]
    if params.solver == "cp-sat":
        m = cp_model.CpModel()
        x = [m.NewBoolVar(f"x{j}") for j in range(n_f)]
        y = [m.NewBoolVar(f"y{g}") for g in range(n_g)]
        for g, row in enumerate(rows):
            m.AddBoolOr([x[j] for j in row] + [y[g].Not()])
        if p is not None:
            m.Add(sum(x) <= p)
        else:
            scale_c = _int_scale(costs)
            ci = np.ceil(costs * scale_c - 1e-9).astype(np.int64)
            m.Add(cp_model.LinearExpr.WeightedSum(x, ci.tolist())
                  <= int(math.floor(budget * scale_c + 1e-9)))
        scale_w = _int_scale(red.weights)
        wi = np.round(red.weights * scale_w).astype(np.int64)
        m.Maximize(cp_model.LinearExpr.WeightedSum(y, wi.tolist()))
        if hint_free is not None:
            for j in range(n_f):
                m.AddHint(x[j], bool(hint_free[j]))
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        solver, status = _cp_solve(m, params)
        solve_s = time.perf_counter() - t1
        chosen = np.array([solver.Value(v) for v in x], dtype=float) > 0.5
        obj = solver.ObjectiveValue() / scale_w + red.pre_covered
        bound = solver.BestObjectiveBound() / scale_w + red.pre_covered
    else:
        mip = _Mip(params)
        s = mip.s
        x = [s.IntVar(0.0, 1.0, f"x{j}") for j in range(n_f)]
        y = [s.NumVar(0.0, 1.0, f"y{g}") for g in range(n_g)]
        for g, row in enumerate(rows):
            ct = s.Constraint(-_INF, 0.0)
            ct.SetCoefficient(y[g], 1.0)
            for j in row:
                ct.SetCoefficient(x[j], -1.0)
        lim = s.Constraint(-_INF, float(p) if p is not None else float(budget))
        for j in range(n_f):
            lim.SetCoefficient(x[j], 1.0 if p is not None else float(costs[j]))
        obj = s.Objective()
        for g in range(n_g):
            obj.SetCoefficient(y[g], float(red.weights[g]))
        obj.SetMaximization()
        if hint_free is not None and params.solver != "highs":
            # OR-Tools' HiGHS interface crashes the process on SetHint (seen with 9.x,
            # HiGHS 1.12): no warm start there
            s.SetHint(x, [float(v) for v in hint_free])
        status, o, b, chosen, build_s, solve_s = mip.solve_timed(t0, x)
        obj, bound = o + red.pre_covered, b + red.pre_covered
    res = _finish(problem, "mclp", params, status, obj, bound, red.free[chosen], build_s,
                  solve_s, red.stats)
    if budget is not None and res.cost > budget + 1e-6 * max(1.0, budget):
        raise SolverError(f"internal error: cost {res.cost} exceeds budget {budget}")
    log.info("mclp: %s", res.summary().replace("\n", "; "))
    return res


# --------------------------------------------------------------------------- set cover
def solve_set_cover(problem: SitingProblem, *, target: float = 1.0,
                    params: SolveParams | None = None) -> SitingResult:
    """Least-cost new sites so that ``target`` share of the population is covered.

    With unit costs this is the least number of sites. Raises
    :class:`InfeasibleTargetError` naming the demand points no allowed candidate covers when
    the target cannot be reached.
    """
    params = params or SolveParams()
    if not 0 < target <= 1:
        raise ValueError(f"`target` must be in (0, 1], got {target}.")
    if problem.capacitated:
        log.warning("set cover ignores capacities")
    t0 = time.perf_counter()
    red = reduce_cover(problem)
    total = float(problem.weights.sum())
    need = target * total
    tol = 1e-9 * max(total, 1.0)
    if red.pre_covered + red.weights.sum() < need - tol:
        raise InfeasibleTargetError(_uncoverable_message(problem, red, need), red.uncoverable)
    remaining = need - red.pre_covered
    n_g, n_f = red.cover.shape
    costs = problem.costs[red.free]
    rows = _rows(red.cover)
    full = target >= 1.0 or remaining >= red.weights.sum() - tol
    if remaining <= tol:
        return _finish(problem, "setcover", params, "optimal", 0.0, 0.0, np.zeros(0, np.int64),
                       time.perf_counter() - t0, 0.0, red.stats)
    if params.solver == "cp-sat":
        m = cp_model.CpModel()
        x = [m.NewBoolVar(f"x{j}") for j in range(n_f)]
        if full:
            for row in rows:
                m.AddBoolOr([x[j] for j in row])
        else:
            y = [m.NewBoolVar(f"y{g}") for g in range(n_g)]
            for g, row in enumerate(rows):
                m.AddBoolOr([x[j] for j in row] + [y[g].Not()])
            scale_w = _int_scale(red.weights)
            wi = np.floor(red.weights * scale_w + 1e-9).astype(np.int64)
            m.Add(cp_model.LinearExpr.WeightedSum(y, wi.tolist())
                  >= int(math.ceil(remaining * scale_w - 1e-6)))
        scale_c = _int_scale(costs)
        ci = np.round(costs * scale_c).astype(np.int64)
        m.Minimize(cp_model.LinearExpr.WeightedSum(x, ci.tolist()))
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        solver, status = _cp_solve(m, params)
        solve_s = time.perf_counter() - t1
        chosen = np.array([solver.Value(v) for v in x], dtype=float) > 0.5
        obj, bound = solver.ObjectiveValue() / scale_c, solver.BestObjectiveBound() / scale_c
    else:
        mip = _Mip(params)
        s = mip.s
        x = [s.IntVar(0.0, 1.0, f"x{j}") for j in range(n_f)]
        if full:
            for row in rows:
                ct = s.Constraint(1.0, _INF)
                for j in row:
                    ct.SetCoefficient(x[j], 1.0)
        else:
            y = [s.NumVar(0.0, 1.0, f"y{g}") for g in range(n_g)]
            for g, row in enumerate(rows):
                ct = s.Constraint(-_INF, 0.0)
                ct.SetCoefficient(y[g], 1.0)
                for j in row:
                    ct.SetCoefficient(x[j], -1.0)
            tgt = s.Constraint(remaining - tol, _INF)
            for g in range(n_g):
                tgt.SetCoefficient(y[g], float(red.weights[g]))
        o = s.Objective()
        for j in range(n_f):
            o.SetCoefficient(x[j], float(costs[j]))
        o.SetMinimization()
        status, obj, bound, chosen, build_s, solve_s = mip.solve_timed(t0, x)
    res = _finish(problem, "setcover", params, status, obj, bound, red.free[chosen], build_s,
                  solve_s, red.stats)
    if res.covered_weight < need - 1e-6 * max(total, 1.0):
        raise SolverError(f"internal error: covered {res.covered_weight} < target {need}")
    log.info("setcover: %s", res.summary().replace("\n", "; "))
    return res


def solve_pmedian(problem: SitingProblem, *, p: int, penalty_s: float | None = None,
                  params: SolveParams | None = None) -> SitingResult:
    """p-median; see :func:`gis.siting.allocation.solve_pmedian`."""
    from .allocation import solve_pmedian as _pmedian

    return _pmedian(problem, p=p, penalty_s=penalty_s, params=params)
