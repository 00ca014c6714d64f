"""What planners get from a siting result: sites ranked by what each adds, coverage before
and after per area, and a coverage-against-sites curve.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .heuristics import marginal_order
from .models import solve_mclp
from .problem import SitingProblem, SitingResult, SolveParams

__all__ = ["rank_sites", "coverage_curve", "areas_before_after"]

log = logging.getLogger(__name__)


def rank_sites(problem: SitingProblem, result: SitingResult) -> pd.DataFrame:
    """Chosen new sites in a greedy order of what each adds on top of the kept sites.

    Returns
    -------
    pandas.DataFrame
        ``index`` (candidate index), ``added_population`` (at its turn), ``rank`` (1 = most).
        The added populations sum to the coverage gain over the kept sites.
    """
    base = np.flatnonzero(problem.required)
    order, added = marginal_order(problem.cover, problem.weights, result.new, base=base)
    return pd.DataFrame({"index": order, "added_population": added,
                         "rank": np.arange(1, len(order) + 1)})


def coverage_curve(problem: SitingProblem, k_max: int, *,
                   params: SolveParams | None = None) -> pd.DataFrame:
    """Best coverage with 0, 1, …, ``k_max`` new sites, each ``k`` solved to optimality.

    Each solve starts from the previous optimum plus the best single addition as a hint
    (a warm start that only helps the solver find a good incumbent; bounds are proven anew).

    Returns
    -------
    pandas.DataFrame
        ``sites, cost, covered_population, coverage_rate, status, gap`` per ``k``.
    """
    params = params or SolveParams()
    total = float(problem.weights.sum())
    kept = problem.required
    base_cov = float(problem.weights[problem.covered_by(kept)].sum())
    rows = [{"sites": 0, "cost": 0.0, "covered_population": base_cov,
             "coverage_rate": base_cov / total if total else 1.0, "status": "optimal",
             "gap": 0.0}]
    hint = kept.copy()
    best = base_cov
    for k in range(1, k_max + 1):
        res = solve_mclp(problem, p=k, params=params, hint=hint)
        rows.append({"sites": k, "cost": res.cost, "covered_population": res.covered_weight,
                     "coverage_rate": res.coverage_rate, "status": res.status, "gap": res.gap})
        hint = res.open.copy()
        if res.covered_weight <= best + 1e-9 and len(res.new) < k:
            log.info("curve: no further gain after %d sites", len(res.new))
            for kk in range(k + 1, k_max + 1):
                rows.append({**rows[-1], "sites": kk})
            break
        best = res.covered_weight
    return pd.DataFrame(rows)


def areas_before_after(area_of_demand: np.ndarray, weights: np.ndarray, before: np.ndarray,
                       after: np.ndarray, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Population covered per area before and after.

    Parameters
    ----------
    area_of_demand
        Area id of each demand point.
    weights
        Population of each demand point.
    before, after
        Boolean per demand point: covered before / after.
    areas
        Optional table with ``id`` (and ``name``, ``urban``) to name and order every area.
    """
    df = pd.DataFrame({"area_id": np.asarray(area_of_demand), "population": weights,
                       "covered_before": weights * before, "covered_after": weights * after})
    g = df.groupby("area_id", sort=False).sum().reset_index()
    if areas is not None:
        base = pd.DataFrame({"area_id": areas["id"].to_numpy()})
        for col in ("name", "urban"):
            if col in areas:
                base[col] = areas[col].to_numpy()
        g = base.merge(g, on="area_id", how="left").fillna(
            {"population": 0.0, "covered_before": 0.0, "covered_after": 0.0})
    with np.errstate(invalid="ignore", divide="ignore"):
        g["rate_before"] = np.round(g["covered_before"] / g["population"], 4)
        g["rate_after"] = np.round(g["covered_after"] / g["population"], 4)
    g["gain"] = g["covered_after"] - g["covered_before"]
    return g
