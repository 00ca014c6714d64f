"""Location models solved with OR-Tools: maximal coverage, set covering, p-median.

Every model works on the reduced problem (see :func:`gis.siting.problem.reduce_cover`), reads
the solution with a 0.5 threshold and recomputes coverage from the original cover matrix, so a
reported number never depends on a solver's rounding.

Backends: a MIP through ``pywraplp`` (SCIP by default, HiGHS or CBC) or CP-SAT for the two
coverage models. Integer data is required by CP-SAT only; weights and costs are scaled there
once, explicitly (costs rounded up, budgets down, so a budget is never exceeded).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from .problem import (
    SCIP_TUNED,
    InfeasibleTargetError,
    Reduced,
    SitingProblem,
    SitingResult,
    SolveParams,
    SolverError,
    merge_rows,
    reduce_cover,
)

__all__ = ["solve_mclp", "solve_set_cover", "solve_pmedian"]

log = logging.getLogger(__name__)

_MIP_NAMES = {"scip": "SCIP", "highs": "HIGHS", "cbc": "CBC"}
_INF = math.inf


# --------------------------------------------------------------------------- backends
class _Mip:
    """Thin wrapper over pywraplp with the parameters applied once."""

    def __init__(self, params: SolveParams):
        self.params = params
        self.s = pywraplp.Solver.CreateSolver(_MIP_NAMES[params.solver])
        if self.s is None:  # pragma: no cover - depends on the OR-Tools build
            raise SolverError(f"OR-Tools has no {params.solver} backend in this build")
        self.s.SetTimeLimit(int(math.ceil(params.time_limit_s * 1000)))
        self.s.SetNumThreads(params.workers)
        text = ""
        if params.solver == "scip":
            text = (f"randomization/randomseedshift = {params.seed}\n"
                    f"randomization/permutationseed = {params.seed}\n")
            text += SCIP_TUNED if params.solver_params is None else ""
        # HiGHS and CBC: deterministic single-threaded; OR-Tools takes no seed string for them
        text += params.solver_params or ""
        if text and not self.s.SetSolverSpecificParametersAsString(text):
            raise SolverError(f"{params.solver} rejected the parameters: {text!r}")

    def solve(self) -> tuple[str, float, float]:
        mp = pywraplp.MPSolverParameters()
        mp.SetDoubleParam(mp.RELATIVE_MIP_GAP, max(self.params.rel_gap, 1e-9))
        status = self.s.Solve(mp)
        if status == pywraplp.Solver.OPTIMAL:
            state = "optimal"
        elif status == pywraplp.Solver.FEASIBLE:
            state = "feasible"
        elif status == pywraplp.Solver.INFEASIBLE:
            raise SolverError("the model is infeasible")
        else:
            raise SolverError(f"{self.params.solver} found no solution within "
                              f"{self.params.time_limit_s:g} s (status {status})")
        obj = self.s.Objective().Value()
        bound = self.s.Objective().BestBound()
        return state, obj, bound


def _cp_solve(model: cp_model.CpModel, params: SolveParams) -> tuple[cp_model.CpSolver, str]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = params.time_limit_s
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    solver.parameters.relative_gap_limit = params.rel_gap
    status = solver.Solve(model)
    if status == cp_model.OPTIMAL:
        return solver, "optimal"
    if status == cp_model.FEASIBLE:
        gap = _gap(solver.ObjectiveValue(), solver.BestObjectiveBound())
        return solver, "optimal" if gap <= params.rel_gap + 1e-12 else "feasible"
    if status == cp_model.INFEASIBLE:
        raise SolverError("the model is infeasible")
    raise SolverError(f"cp-sat found no solution within {params.time_limit_s:g} s "
                      f"({solver.StatusName(status)})")


def _int_scale(values: np.ndarray, *, max_total: float = 2**50) -> float:
    """Factor making ``values`` integers: 1 for integer data, else a 1e-3 resolution."""
    scale = 1.0 if np.allclose(values, np.round(values)) else 1000.0
    if values.sum() * scale > max_total:
        scale = max_total / max(values.sum(), 1.0)
    return scale


def _gap(obj: float, bound: float) -> float:
    return abs(bound - obj) / max(abs(obj), 1e-9)


def _rows(m: sp.csr_array) -> list[list[int]]:
    idx = m.indices.tolist()
    ptr = m.indptr.tolist()
    return [idx[ptr[i]:ptr[i + 1]] for i in range(m.shape[0])]


# --------------------------------------------------------------------------- helpers
def _check_limit(problem: SitingProblem, p: int | None, budget: float | None) -> None:
    if (p is None) == (budget is None):
        raise ValueError("give exactly one of `p` (number of new sites) or `budget`.")
    if p is not None and p < 0:
        raise ValueError(f"`p` must be >= 0, got {p}.")
    if budget is not None and not budget >= 0:
        raise ValueError(f"`budget` must be >= 0, got {budget}.")


def _finish(problem: SitingProblem, model: str, params: SolveParams, status: str,
            objective: float, bound: float, new: np.ndarray, build_s: float, solve_s: float,
            stats: dict, *, assignment: np.ndarray | None = None,
            served: float | None = None) -> SitingResult:
    new = np.sort(np.asarray(new, dtype=np.int64))
    open_mask = problem.required.copy()
    open_mask[new] = True
    covered = problem.covered_by(open_mask)
    covered_weight = float(problem.weights[covered].sum()) if served is None else served
    return SitingResult(
        model=model, solver=params.solver, status=status, objective=float(objective),
        bound=float(bound), gap=_gap(objective, bound), open=open_mask, new=new,
        covered=covered, covered_weight=covered_weight,
        total_weight=float(problem.weights.sum()), cost=float(problem.costs[new].sum()),
        build_s=build_s, solve_s=solve_s, assignment=assignment, stats=stats)


def _uncoverable_message(problem: SitingProblem, red: Reduced, need: float) -> str:
    total = problem.weights.sum()
    best = red.pre_covered + red.weights.sum()
    ids = problem.demand_ids[red.uncoverable]
    shown = ", ".join(str(i) for i in ids[:10])
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    lost = problem.weights[red.uncoverable].sum()
    return (f"the target of {100 * need / total:.2f}% cannot be reached: at most "
            f"{100 * best / total:.2f}% of the population can be covered; "
            f"{len(ids)} demand point(s) with {lost:,.0f} people have no allowed candidate "
            f"within their circle: {shown}{more}")


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
        return _solve_capacitated(problem, p=p, budget=budget, params=params)
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
        if hint_free is not None:
            s.SetHint(x, [float(v) for v in hint_free])
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        status, o, b = mip.solve()
        solve_s = time.perf_counter() - t1
        chosen = np.array([v.solution_value() for v in x]) > 0.5
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
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        status, obj, bound = mip.solve()
        solve_s = time.perf_counter() - t1
        chosen = np.array([v.solution_value() for v in x]) > 0.5
    res = _finish(problem, "setcover", params, status, obj, bound, red.free[chosen], build_s,
                  solve_s, red.stats)
    if res.covered_weight < need - 1e-6 * max(total, 1.0):
        raise SolverError(f"internal error: covered {res.covered_weight} < target {need}")
    log.info("setcover: %s", res.summary().replace("\n", "; "))
    return res


# --------------------------------------------------------------------------- allocation models
def _allocation(problem: SitingProblem, data_in_cover: bool):
    """Reduce for allocation models: allowed columns (required included), merged rows."""
    allowed = np.flatnonzero(~problem.forbidden)
    sub = sp.csr_array(problem.cover[:, allowed])
    if not data_in_cover:
        sub = sp.csr_array((np.ones(sub.nnz), sub.indices, sub.indptr), shape=sub.shape)
    w = problem.weights
    has = np.diff(sub.indptr) > 0
    rows = np.flatnonzero(has & (w > 0))
    sub = sp.csr_array(sub[rows])
    used = np.zeros(len(allowed), dtype=bool)
    used[sub.indices] = True
    used |= problem.required[allowed]
    cols = np.flatnonzero(used)
    sub = sp.csr_array(sub[:, cols])
    cand = allowed[cols]
    group_rows, first = merge_rows(sub)
    gw = np.bincount(group_rows, weights=w[rows], minlength=len(first))
    gl = np.bincount(group_rows, weights=problem.load[rows], minlength=len(first))
    g = sp.csr_array(sub[first])
    stats = {"demand": problem.n_demand, "kept": len(rows), "groups": len(first),
             "candidates": problem.n_candidates, "free": int((~problem.required[cand]).sum()),
             "pairs": int(g.nnz)}
    return cand, g, gw, gl, rows, group_rows, stats


def _build_allocation(problem, params, cand, g, gl, p, budget):
    mip = _Mip(params)
    s = mip.s
    req = problem.required[cand]
    x = [s.IntVar(1.0 if req[j] else 0.0, 1.0, f"x{j}") for j in range(len(cand))]
    z = [s.NumVar(0.0, 1.0, "") for _ in range(g.nnz)]
    lim = s.Constraint(-_INF, float(p) if p is not None else float(budget))
    for j in np.flatnonzero(~req):
        lim.SetCoefficient(x[j], 1.0 if p is not None else float(problem.costs[cand[j]]))
    idx = g.indices.tolist()
    for k, j in enumerate(idx):
        ct = s.Constraint(-_INF, 0.0)
        ct.SetCoefficient(z[k], 1.0)
        ct.SetCoefficient(x[j], -1.0)
    cap = problem.capacity[cand]
    finite = np.isfinite(cap)
    cap_ct = {}
    for j in np.flatnonzero(finite):
        ct = s.Constraint(-_INF, 0.0)
        ct.SetCoefficient(x[j], -float(cap[j]))
        cap_ct[int(j)] = ct
    rows_of = np.repeat(np.arange(g.shape[0]), np.diff(g.indptr))
    for k, j in enumerate(idx):
        if j in cap_ct:
            cap_ct[j].SetCoefficient(z[k], float(gl[rows_of[k]]))
    return mip, x, z, rows_of


def _solve_capacitated(problem: SitingProblem, *, p: int | None, budget: float | None,
                       params: SolveParams) -> SitingResult:
    """MCLP with capacities: demand is allocated (fractionally) to open sites within reach."""
    if params.solver == "cp-sat":
        params = SolveParams(solver="scip", time_limit_s=params.time_limit_s, seed=params.seed,
                             workers=params.workers, rel_gap=params.rel_gap,
                             solver_params=params.solver_params)
    t0 = time.perf_counter()
    cand, g, gw, gl, rows, group_rows, stats = _allocation(problem, data_in_cover=False)
    mip, x, z, rows_of = _build_allocation(problem, params, cand, g, gl, p, budget)
    s = mip.s
    for r in range(g.shape[0]):
        ct = s.Constraint(-_INF, 1.0)
        for k in range(g.indptr[r], g.indptr[r + 1]):
            ct.SetCoefficient(z[k], 1.0)
    o = s.Objective()
    for k in range(g.nnz):
        o.SetCoefficient(z[k], float(gw[rows_of[k]]))
    o.SetMaximization()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    status, obj, bound = mip.solve()
    solve_s = time.perf_counter() - t1
    chosen = np.array([v.solution_value() for v in x]) > 0.5
    new = cand[chosen & ~problem.required[cand]]
    return _finish(problem, "mclp-capacitated", params, status, obj, bound, new, build_s,
                   solve_s, stats, served=float(obj))


def solve_pmedian(problem: SitingProblem, *, p: int, penalty_s: float | None = None,
                  params: SolveParams | None = None) -> SitingResult:
    """p-median: least population-weighted travel time with ``p`` new sites.

    ``problem.cover`` holds travel seconds for the reachable pairs (explicit zeros allowed);
    demand that no open site reaches costs ``penalty_s`` per person (default: twice the
    largest time). Capacities, where finite, bound the load assigned to a site.

    The objective is population-weighted seconds including penalties; ``assignment`` gives the
    serving candidate per demand point (``-1`` for the penalty).
    """
    params = params or SolveParams()
    if params.solver == "cp-sat":
        params = SolveParams(solver="scip", time_limit_s=params.time_limit_s, seed=params.seed,
                             workers=params.workers, rel_gap=params.rel_gap,
                             solver_params=params.solver_params)
    if p < 0:
        raise ValueError(f"`p` must be >= 0, got {p}.")
    t0 = time.perf_counter()
    times = np.asarray(problem.cover.data, dtype=float)
    if penalty_s is None:
        penalty_s = 2.0 * float(times.max()) if len(times) else 1.0
    cand, g, gw, gl, rows, group_rows, stats = _allocation(problem, data_in_cover=True)
    unreached = problem.weights.sum() - gw.sum()
    mip, x, z, rows_of = _build_allocation(problem, params, cand, g, gl, p, None)
    s = mip.s
    u = [s.NumVar(0.0, 1.0, "") for _ in range(g.shape[0])]
    for r in range(g.shape[0]):
        ct = s.Constraint(1.0, 1.0)
        ct.SetCoefficient(u[r], 1.0)
        for k in range(g.indptr[r], g.indptr[r + 1]):
            ct.SetCoefficient(z[k], 1.0)
    o = s.Objective()
    for k in range(g.nnz):
        o.SetCoefficient(z[k], float(gw[rows_of[k]] * g.data[k]))
    for r in range(g.shape[0]):
        o.SetCoefficient(u[r], float(gw[r] * penalty_s))
    o.SetOffset(float(unreached * penalty_s))
    o.SetMinimization()
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    status, obj, bound = mip.solve()
    solve_s = time.perf_counter() - t1
    chosen = np.array([v.solution_value() for v in x]) > 0.5
    zval = np.array([v.solution_value() for v in z])
    # serving site per group: the pair with the largest allocation (all-or-nothing uncapacitated)
    g_assign = np.full(g.shape[0], -1, dtype=np.int64)
    for r in range(g.shape[0]):
        a, b = g.indptr[r], g.indptr[r + 1]
        if b > a:
            k = a + int(np.argmax(zval[a:b]))
            if zval[k] > 0.5 or (problem.capacitated and zval[k] > 1e-6):
                g_assign[r] = cand[g.indices[k]]
    assignment = np.full(problem.n_demand, -1, dtype=np.int64)
    assignment[rows] = g_assign[group_rows]
    new = cand[chosen & ~problem.required[cand]]
    res = _finish(problem, "pmedian", params, status, obj, bound, new, build_s, solve_s, stats,
                  assignment=assignment)
    log.info("pmedian: %s", res.summary().replace("\n", "; "))
    return res
