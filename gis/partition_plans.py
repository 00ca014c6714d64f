"""`site` and `delegate` partitioned: county curves, the exact split, then each county's plan.

Round 1 runs every county's curve on its piece (:func:`gis.partition_siting.run_county_file`);
:func:`gis.partition_province.split_budget` splits the budget across the curves exactly (a
multiple-choice knapsack); round 2 runs, on each county's piece, the single-region plan with the
units the county was given (``plan_sites(add=u)``; the delegation MIP with ``add=u``) and returns
the same tables the non-partitioned commands write: ``chosen.csv``, ``curve.csv`` and
``areas_after.csv`` (siting) or ``items_after.csv`` (delegation), plus ``counties.csv``, the
split. Modelling limit: a candidate (or a delegation target outlet) counts only for the county
whose areas hold it, so a site just inside county A that would also serve people in county B
counts only for A; the counties are independent, which is what makes the split exact.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .coverage import compute_coverage
from .io import write_csv
from .items import ItemTable
from .partition import (
    Mapper,
    _peak_reset,
    build_piece,
    open_cache,
    serial_map,
    task_peak_mb,
    write_network_cache,
)
from .partition_siting import (
    CountyCurves,
    _piece_region,
    _write_tasks,
    county_delegation_problem,
    province_setup,
    run_county_file,
)
from .region import Region
from .siting.delegation_plan import CHOSEN_COLUMNS
from .siting.primitives import mckp

__all__ = ["CountyPlan", "PartitionedPlan", "partitioned_sites", "partitioned_delegation",
           "run_county_plan_file"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountyPlan:
    """One county's final plan: its chosen rows and its ``after`` table (areas or items)."""

    key: str
    chosen: pd.DataFrame
    after: pd.DataFrame
    peak_mb: float = float("nan")


@dataclass(frozen=True)
class PartitionedPlan:
    """A partitioned ``site`` or ``delegate`` run: the command's tables and the split."""

    kind: str  # "siting" or "delegation"
    chosen: pd.DataFrame
    curve: pd.DataFrame
    after: pd.DataFrame
    counties: pd.DataFrame

    def write(self, folder: Path) -> dict[str, Path]:
        """``chosen.csv``, ``curve.csv``, ``areas_after.csv`` / ``items_after.csv`` and
        ``counties.csv`` under ``folder/siting`` or ``folder/delegation``.
        """
        d = Path(folder) / self.kind
        after = "areas_after.csv" if self.kind == "siting" else "items_after.csv"
        return {"chosen": write_csv(self.chosen, d / "chosen.csv"),
                "curve": write_csv(self.curve, d / "curve.csv"),
                "after": write_csv(self.after, d / after),
                "counties": write_csv(self.counties, d / "counties.csv")}

    def summary(self) -> str:
        """One line per county given something, after the province total."""
        what = "site(s)" if self.kind == "siting" else "delegation(s)"
        col = "covered_population" if self.kind == "siting" else "weighted_covered"
        lines = [f"{len(self.chosen)} {what} split over {len(self.counties)} partitions "
                 f"(exact split of the county curves)"]
        for r in self.counties.itertuples():
            units = r.sites if self.kind == "siting" else r.delegations
            if units:
                lines.append(f"  {r.county}: {units} → {getattr(r, col):,.0f}")
        return "\n".join(lines)


def _unchanged_areas(region: Region) -> pd.DataFrame:
    """``areas_after.csv`` rows of a county given no site: before = after, gain 0."""
    a = compute_coverage(region.network, region.settings, region.outlets, region.demand,
                         region.areas).areas
    t = pd.DataFrame({"area_id": a["area_id"], "name": a["name"], "urban": a["urban"],
                      "population": a["population"], "covered_before": a["covered_population"],
                      "covered_after": a["covered_population"]})
    with np.errstate(invalid="ignore", divide="ignore"):
        t["rate_before"] = np.round(t["covered_before"] / t["population"], 4)
        t["rate_after"] = np.round(t["covered_after"] / t["population"], 4)
    t["gain"] = t["covered_after"] - t["covered_before"]
    return t


def run_county_plan_file(path: str) -> CountyPlan:
    """What a worker runs in round 2: the county's single-region plan with its units."""
    from .siting.delegation import solve_delegation
    from .siting.delegation_plan import _tables  # the non-partitioned command's tables
    from .siting.plan import plan_sites

    _peak_reset()
    with open(path, "rb") as fh:
        t: dict[str, Any] = pickle.load(fh)
    piece = build_piece(t["spec"], open_cache(Path(path).parent.parent / "network"))
    region = _piece_region(piece.network, piece.settings, t, piece.demand)
    if t["items"] is None:  # siting
        u = int(t["sites"])
        if u > 0:
            plan = plan_sites(region, add=u, model="mclp", curve_max=0)
            return CountyPlan(t["key"], plan.chosen, plan.areas, task_peak_mb())
        return CountyPlan(t["key"], pd.DataFrame(), _unchanged_areas(region), task_peak_mb())
    p, ic = county_delegation_problem(region, t["items"], t["own"])
    tab = _tables(region, t["items"], ic, p, solve_delegation(p, add=int(t["delegations"])))
    return CountyPlan(t["key"], tab.chosen, tab.items_after, task_peak_mb())


def _split(curves: dict[str, np.ndarray], costs: dict[str, np.ndarray], budget: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """MCKP over the curves: best value and cost per budget ``0 … budget``, final units."""
    keys = sorted(curves)
    values = [np.asarray(curves[k], float) for k in keys]
    best, picks = mckp([v - v[0] for v in values], budget)
    base = float(sum(v[0] for v in values))
    cost = np.array([sum(float(costs[k][int(u)]) for k, u in zip(keys, picks[b], strict=True))
                     for b in range(budget + 1)])
    return best + base, cost, np.asarray(picks[budget]), keys


def _run(region: Region, by: str, *, sites: int, delegations: int, items: ItemTable | None,
         candidates: Any, mapper: Mapper, task1: Callable[[str], CountyCurves],
         task2: Callable[[str], CountyPlan], workdir: str | Path | None
         ) -> tuple[dict[str, CountyCurves], np.ndarray, np.ndarray, np.ndarray, list[str],
                    dict[str, CountyPlan]]:
    clip, parts, cands, cand_county, out_county = province_setup(region, by, sites, candidates)
    keys = [k for k, _ in parts]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        clip.use_cache(write_network_cache(clip.net, Path(tmp) / "network"))
        full = {"sites": dict.fromkeys(keys, sites), "delegations": dict.fromkeys(keys,
                                                                             delegations)}
        paths = _write_tasks(clip, parts, region, by, cands, cand_county, out_county, full,
                             items, Path(tmp) / "curves", chosen_only=False)
        res = {r.key: r for r in mapper(task1, paths)}
        if sites > 0:
            curves = {k: r.sites_curve for k, r in res.items() if r.sites_curve is not None}
            costs = {k: r.sites_cost for k, r in res.items() if r.sites_cost is not None}
            budget = sites
        else:
            curves = {k: r.deleg_curve for k, r in res.items() if r.deleg_curve is not None}
            costs = {k: r.deleg_cost for k, r in res.items() if r.deleg_cost is not None}
            budget = delegations
        best, cost, units, ukeys = _split(curves, costs, budget)
        given = {k: int(u) for k, u in zip(ukeys, units, strict=True)}
        name = "sites" if sites > 0 else "delegations"
        p2 = _write_tasks(clip, parts, region, by, cands, cand_county, out_county,
                          {"sites": given if sites > 0 else {},
                           "delegations": given if sites == 0 else {}},
                          items if sites == 0 else None, Path(tmp) / "plans",
                          chosen_only=True)
        plans = {r.key: r for r in mapper(task2, p2)}
        peaks = [r.peak_mb for r in [*res.values(), *plans.values()]]
        log.info("%s: county tasks' own peak memory: max %.0f MB", name,
                 max(peaks, default=np.nan))
    return res, best, cost, units, ukeys, plans


def _rank(chosen: list[pd.DataFrame], by: str, columns: list[str]) -> pd.DataFrame:
    """The counties' chosen rows, ranked again across the province by ``by`` (descending)."""
    rows = [c for c in chosen if len(c)]
    if not rows:
        return pd.DataFrame(columns=columns)
    df = pd.concat(rows, ignore_index=True)
    df = df.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return df


def partitioned_sites(region: Region, by: str, add: int, *, candidates: Any = None,
                      mapper: Mapper = serial_map,
                      task1: Callable[[str], CountyCurves] = run_county_file,
                      task2: Callable[[str], CountyPlan] = run_county_plan_file,
                      workdir: str | Path | None = None) -> PartitionedPlan:
    """``add`` new sites for the province, split across the partitions of ``by`` exactly.

    Each county's siting curve (model mclp, its own candidates), the MCKP split, then each
    county's ``plan_sites(add=units)`` on its piece. ``chosen`` is ranked across the province
    by ``added_population``; ``curve`` is the province curve (best split for ``0 … add``).
    """
    _, best, cost, units, keys, plans = _run(
        region, by, sites=add, delegations=0, items=None, candidates=candidates,
        mapper=mapper, task1=task1, task2=task2, workdir=workdir)
    pop = float(region.demand["population"].sum())
    curve = pd.DataFrame({"sites": np.arange(add + 1), "cost": cost,
                          "covered_population": best,
                          "coverage_rate": np.round(best / pop, 4) if pop else np.nan})
    order = pd.Index(region.areas["id"])
    after = pd.concat([plans[k].after for k in keys], ignore_index=True)
    after = after.iloc[np.argsort(order.get_indexer(after["area_id"]), kind="stable")]
    counties = pd.DataFrame({
        "county": keys, "sites": units,
        "covered_population": [float(after.loc[after["area_id"].isin(
            region.areas.loc[region.areas[by].astype(str) == k, "id"]), "covered_after"].sum())
            for k in keys],
        "site_ids": [";".join(map(str, plans[k].chosen["site_id"])) if len(plans[k].chosen)
                     else "" for k in keys]})
    return PartitionedPlan("siting", _rank([plans[k].chosen for k in keys], "added_population",
                                 ["rank", "site_id", "name", "kind", "added_population"]),
                           curve, after.reset_index(drop=True), counties)


def partitioned_delegation(region: Region, by: str, add: int, items: ItemTable, *,
                           mapper: Mapper = serial_map,
                           task1: Callable[[str], CountyCurves] = run_county_file,
                           task2: Callable[[str], CountyPlan] = run_county_plan_file,
                           workdir: str | Path | None = None) -> PartitionedPlan:
    """``add`` (outlet, item) delegations for the province, split across partitions exactly.

    A county delegates only to its own outlets (those inside its areas). ``curve`` is the
    province curve: pairs, cost, request-weighted coverage share.
    """
    _, best, cost, units, keys, plans = _run(
        region, by, sites=0, delegations=add, items=items, candidates=None, mapper=mapper,
        task1=task1, task2=task2, workdir=workdir)
    full = float(region.demand["population"].sum() * items.catalogue["weight"].sum())
    curve = pd.DataFrame({"pairs": np.arange(add + 1), "cost": cost,
                          "weighted_coverage": np.round(best / full, 5) if full else np.nan})
    item_order = pd.Index(items.catalogue["id"])
    area_order = pd.Index(region.areas["id"])
    after = pd.concat([plans[k].after for k in keys], ignore_index=True)
    o = np.lexsort((area_order.get_indexer(after["area_id"]),
                    item_order.get_indexer(after["item_id"])))
    counties = pd.DataFrame({
        "county": keys, "delegations": units,
        "weighted_covered": _county_values(plans, keys, items),
        "pairs": [";".join(f"{a}:{b}" for a, b in zip(plans[k].chosen.get("outlet_id", []),
                                                      plans[k].chosen.get("item_id", []),
                                                      strict=True)) for k in keys]})
    return PartitionedPlan("delegation", _rank([plans[k].chosen for k in keys],
                                               "added_weighted", CHOSEN_COLUMNS),
                           curve, after.iloc[o].reset_index(drop=True), counties)


def _county_values(plans: dict[str, CountyPlan], keys: list[str], items: ItemTable
                   ) -> list[float]:
    """Each county's request-weighted covered people after its delegations."""
    w = pd.Series(items.catalogue["weight"].to_numpy(float),
                  index=items.catalogue["id"].astype(str))
    out = []
    for k in keys:
        a = plans[k].after
        out.append(float((a["covered_after"] * a["item_id"].astype(str).map(w)).sum())
                   if len(a) else 0.0)
    return out
