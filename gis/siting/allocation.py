"""Allocation models solved with a MIP through OR-Tools: p-median (least population-weighted
travel time, a penalty for demand no open site reaches) and maximal coverage with capacities.

Demand is allocated to open sites along covering pairs only (sparse); identical demand rows
merge (same sites, same times), weights and loads summed.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from ._solver import _INF, _finish, _Mip
from .problem import SitingProblem, SitingResult, SolveParams, merge_rows

__all__ = ["solve_pmedian", "solve_capacitated"]

log = logging.getLogger(__name__)


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


def solve_capacitated(problem: SitingProblem, *, p: int | None, budget: float | None,
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
    status, obj, bound, chosen, build_s, solve_s = mip.solve_timed(t0, x)
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
    status, obj, bound, chosen, build_s, solve_s = mip.solve_timed(t0, x)
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
