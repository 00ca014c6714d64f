"""Delegation on a loaded region: cover sets of the outlets that may take items, the exact
choice (:mod:`gis.siting.delegation`), and the tables ``bianmin delegate`` writes.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gis.coverage import coverage_of_region
from gis.errors import InputError, InputProblem
from gis.io import write_csv
from gis.items import ItemCoverage, ItemTable, item_coverage_of_region, items_of_region
from gis.region import Region

from .coversets import network_cover_sets
from .delegation import (
    DelegationProblem,
    DelegationResult,
    InfeasibleDelegationError,
    solve_delegation,
)

__all__ = ["DelegationPlan", "plan_delegation", "write_delegation", "check_delegation_args",
           "CHOSEN_COLUMNS", "CURVE_COLUMNS"]

log = logging.getLogger(__name__)

CHOSEN_COLUMNS = ["outlet_id", "outlet_name", "item_id", "item_name", "added_population",
                  "added_weighted", "cost", "rank"]
CURVE_COLUMNS = ["pairs", "cost", "weighted_coverage"]


@dataclass(frozen=True)
class DelegationPlan:
    """The chosen pairs, the curve along them, and every item's coverage before and after."""

    chosen: pd.DataFrame
    curve: pd.DataFrame
    items_after: pd.DataFrame
    result: DelegationResult
    before: float
    after: float

    def summary(self) -> str:
        """What was chosen and how sure we are, in a few lines."""
        r = self.result
        proof = "proven optimal" if r.status == "optimal" else f"gap {r.gap:.3%}"
        return (f"{len(self.chosen)} item delegation(s), cost {r.cost:g}: request-weighted "
                f"coverage {self.before:.1%} → {self.after:.1%} ({proof}; {r.method}, "
                f"{r.seconds:.1f} s)")


def _delegation_cost(region: Region) -> np.ndarray:
    outlets = region.outlets
    if "delegation_cost" not in outlets:
        return np.ones(len(outlets))
    file = str(region.files.get("outlets", "outlets"))
    out, problems = np.ones(len(outlets)), []
    for i, v in enumerate(outlets["delegation_cost"].tolist()):
        s = "" if v is None else str(v).strip()
        if s in ("", "nan"):
            continue
        try:
            out[i] = float(s)
            if not np.isfinite(out[i]) or out[i] < 0:
                raise ValueError
        except ValueError:
            problems.append(InputProblem(file, i + 1, "delegation_cost",
                                         f"{s!r} is not a number >= 0"))
    if problems:
        raise InputError(problems)
    return out


def _item_indices(catalogue: pd.DataFrame, ids: Collection[str] | None) -> np.ndarray:
    if ids is None:
        return np.arange(len(catalogue))
    look = {str(v): j for j, v in enumerate(catalogue["id"])}
    look.update({str(v): j for j, v in enumerate(catalogue["name"])})
    problems, idx = [], []
    for t in ids:
        if t in look:
            idx.append(look[t])
        else:
            near = difflib.get_close_matches(t, list(look), n=3, cutoff=0.3)
            problems.append(InputProblem("--items", None, None, f"unknown item {t!r}"
                                         + (f"; closest: {', '.join(near)}" if near else "")))
    if problems:
        raise InputError(problems)
    return np.array(sorted(set(idx)), np.int64)


def delegation_problem(region: Region, items: ItemTable, ic: ItemCoverage,
                       points: pd.DataFrame, *, workers: int | None = None) -> DelegationProblem:
    """The arrays of the region's delegation problem."""
    cat = items.catalogue
    kinds = region.outlets["kind"].to_numpy()
    allowed = np.zeros(items.handles.shape, bool)
    for j, ks in enumerate(cat["delegable_to"]):
        allowed[:, j] = np.isin(kinds, list(ks))
    allowed &= ~items.handles
    use = np.flatnonzero(allowed.any(axis=1))
    n, m = len(points), len(region.outlets)
    if len(use):
        cs = network_cover_sets(region.network, region.demand["lon"].to_numpy(),
                                region.demand["lat"].to_numpy(),
                                points["threshold_minutes"].to_numpy(float),
                                points["mode"].to_numpy(dtype=object),
                                region.outlets["lon"].to_numpy()[use],
                                region.outlets["lat"].to_numpy()[use],
                                max_snap_m=region.settings.max_snap_m, workers=workers)
        coo = cs.times.tocoo()
        cover = sp.csr_array((np.ones(coo.nnz, bool), (coo.row, use[coo.col])), shape=(n, m))
    else:
        cover = sp.csr_array((n, m), dtype=bool)
    return DelegationProblem(cover, points["population"].to_numpy(float),
                             cat["weight"].to_numpy(float), ic.set_covered[:, ic.item_set],
                             allowed, _delegation_cost(region))


def check_delegation_args(*, budget: float | None, add: int | None, target: float | None,
                          max_new_per_outlet: int | None) -> None:
    """Raise :class:`InputError` naming every bad argument (the CLI calls it before any work)."""
    problems = []
    given = [n for n, v in (("--budget", budget), ("--add", add), ("--target", target))
             if v is not None]
    if len(given) != 1:
        problems.append(InputProblem("arguments", None, None, "give exactly one of --budget, "
                                     f"--add or --target (got {', '.join(given) or 'none'})"))
    if budget is not None and not (np.isfinite(budget) and budget >= 0):
        problems.append(InputProblem("--budget", None, None, f"{budget}: expected a finite "
                                     "number >= 0"))
    if add is not None and add < 0:
        problems.append(InputProblem("--add", None, None, f"{add}: expected a whole number >= 0"))
    if target is not None and not 0 < target <= 1:  # NaN fails too
        problems.append(InputProblem("--target", None, None, f"{target}: expected a share in "
                                     "(0, 1]"))
    if max_new_per_outlet is not None and max_new_per_outlet < 0:
        problems.append(InputProblem("--max-new-per-outlet", None, None,
                                     f"{max_new_per_outlet}: expected a whole number >= 0"))
    if problems:
        raise InputError(problems)


def plan_delegation(region: Region, *, budget: float | None = None, add: int | None = None,
                    target: float | None = None, items: Collection[str] | None = None,
                    max_new_per_outlet: int | None = None, time_limit_s: float = 60.0,
                    workers: int | None = None) -> DelegationPlan:
    """Choose which items to delegate to which outlets of ``region`` (exactly one of
    ``budget``, ``add`` or ``target``, a request-weighted coverage share).
    """
    check_delegation_args(budget=budget, add=add, target=target,
                          max_new_per_outlet=max_new_per_outlet)
    table = items_of_region(region)
    if table is None:
        raise InputError(InputProblem(str(region.path / "region.toml"), None, "files.items",
                                      "delegation needs an item catalogue: add "
                                      "`items = \"items.csv\"` under [files]"))
    idx = _item_indices(table.catalogue, items)
    base = coverage_of_region(region)
    ic = item_coverage_of_region(region, base=base, items=table)
    assert ic is not None  # a catalogue was given
    p = delegation_problem(region, table, ic, base.points, workers=workers)
    try:
        res = solve_delegation(p, budget=budget, add=add, target=target, items=idx,
                               max_new_per_outlet=max_new_per_outlet, time_limit_s=time_limit_s)
    except InfeasibleDelegationError as exc:
        raise InputError(InputProblem("--target", None, None, str(exc))) from exc
    return _tables(region, table, ic, p, res)


def _tables(region: Region, table: ItemTable, ic: ItemCoverage, p: DelegationProblem,
            res: DelegationResult) -> DelegationPlan:
    cat, outlets = table.catalogue, region.outlets
    o = np.array([a for a, _ in res.pairs], np.int64)
    j = np.array([b for _, b in res.pairs], np.int64)
    chosen = pd.DataFrame({"outlet_id": outlets["id"].to_numpy()[o],
                           "outlet_name": outlets["name"].to_numpy()[o],
                           "item_id": cat["id"].to_numpy()[j], "item_name": cat["name"].to_numpy()[j],
                           "added_population": np.round(res.added_population, 1),
                           "added_weighted": np.round(res.added_weighted, 1),
                           "cost": p.cost[o], "rank": np.arange(1, len(o) + 1)})
    full = float(p.population.sum() * p.weight.sum())
    before = float(sum(p.weight[k] * p.population[p.covered[:, k]].sum()
                       for k in range(len(p.weight))))
    steps = np.concatenate([[0.0], np.cumsum(res.added_weighted)])
    curve = pd.DataFrame({"pairs": np.arange(len(steps)),
                          "cost": np.concatenate([[0.0], np.cumsum(p.cost[o])]),
                          "weighted_coverage": np.round((before + steps) / full, 5)
                          if full else np.nan})
    after = p.covered.copy()
    cover = sp.csc_array(p.cover)
    for a, b in res.pairs:
        after[cover.indices[cover.indptr[a]:cover.indptr[a + 1]], b] = True
    area_ids = region.areas["id"].to_numpy()
    codes = pd.Index(area_ids).get_indexer(region.demand["area_id"])
    k = len(area_ids)
    pop = p.population
    a_pop = np.bincount(codes, weights=pop, minlength=k)
    rows = []
    for q in range(len(cat)):
        cb = np.bincount(codes, weights=pop * p.covered[:, q], minlength=k)
        ca = np.bincount(codes, weights=pop * after[:, q], minlength=k)
        rows.append(pd.DataFrame({"item_id": cat["id"].iloc[q], "item_name": cat["name"].iloc[q],
                                  "area_id": area_ids, "population": a_pop,
                                  "covered_before": cb, "covered_after": ca}))
    items_after = pd.concat(rows, ignore_index=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        items_after["rate_before"] = np.round(items_after["covered_before"]
                                              / items_after["population"], 4)
        items_after["rate_after"] = np.round(items_after["covered_after"]
                                             / items_after["population"], 4)
    return DelegationPlan(chosen, curve, items_after, res, before / full if full else np.nan,
                          (before + res.value) / full if full else np.nan)


def write_delegation(plan: DelegationPlan, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write chosen.csv, curve.csv and items_after.csv under ``out_dir/delegation``.

    ``out_dir`` is usually a staging folder (see :mod:`gis.outdir`).
    """
    d = Path(out_dir) / "delegation"
    return {"chosen": write_csv(plan.chosen[CHOSEN_COLUMNS], d / "chosen.csv"),
            "curve": write_csv(plan.curve[CURVE_COLUMNS], d / "curve.csv"),
            "items_after": write_csv(plan.items_after, d / "items_after.csv")}
