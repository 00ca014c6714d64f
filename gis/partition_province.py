"""A province by county: the per-county table and an exact split of a province budget.

:func:`county_table` is ``OUT/province/counties.csv`` from a (partitioned) coverage run: per
county the population, covered population and rate, the urban/rural split and the items'
request-weighted rate. :func:`split_budget` splits a province budget (new sites or
delegations) across counties exactly, given each county's curve (units added → covered
population): the counties are independent, so this is a multiple-choice knapsack, solved by
the MCKP of :mod:`gis.siting.delegation`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from .coverage import CoverageResult
from .items import ItemCoverage
from .siting.primitives import mckp

__all__ = ["COUNTY_COLUMNS", "county_shapes", "county_table", "split_budget"]

#: Columns of ``OUT/province/counties.csv``.
COUNTY_COLUMNS = ["county", "population", "covered_population", "coverage_rate",
                  "urban_population", "urban_covered", "rural_population", "rural_covered",
                  "items_weighted_rate"]


def county_table(cov: CoverageResult, areas: pd.DataFrame, by: str,
                 items: ItemCoverage | None = None) -> pd.DataFrame:
    """One row per value of the areas' field ``by`` (:data:`COUNTY_COLUMNS`)."""
    pts = cov.points
    county_of = pd.Series(areas[by].astype(str).to_numpy(), index=areas["id"].to_numpy())
    urban_of = pd.Series(areas["urban"].to_numpy(dtype=bool), index=areas["id"].to_numpy())
    aid = pts["area_id"].to_numpy()
    pop = pts["population"].to_numpy(dtype=float)
    cov_pop = pop * pts["covered"].to_numpy(dtype=bool)
    urban = urban_of.reindex(aid).to_numpy(dtype=bool)
    w = (np.full(len(pop), np.nan) if items is None
         else pop * np.nan_to_num(items.point_weighted))
    df = pd.DataFrame({"county": county_of.reindex(aid).to_numpy(), "population": pop,
                       "covered_population": cov_pop, "urban_population": pop * urban,
                       "urban_covered": cov_pop * urban, "rural_population": pop * ~urban,
                       "rural_covered": cov_pop * ~urban, "w": w})
    g = df.groupby("county", sort=True).sum(min_count=1).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        g["coverage_rate"] = np.round(g["covered_population"] / g["population"], 4)
        g["items_weighted_rate"] = np.round(g["w"] / g["population"], 4)
    return g[COUNTY_COLUMNS]


def split_budget(curves: dict[str, np.ndarray], budget: int
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exact split of ``budget`` units across counties, and the province curve.

    ``curves[c][k]`` is the population county ``c`` covers with ``k`` units (``k = 0 …``).
    Returns ``(choices, curve)``: per county the units given and the population covered; and
    for every budget ``0 … budget`` the best province total.
    """
    keys = sorted(curves)
    values = [np.asarray(curves[k], dtype=float) for k in keys]
    base = float(sum(v[0] for v in values))
    best, picks = mckp([v - v[0] for v in values], int(budget))
    units = picks[int(budget)]
    choices = pd.DataFrame({"county": keys, "units": units,
                            "covered_population": [v[u] for v, u in
                                                   zip(values, units, strict=True)]})
    curve = pd.DataFrame({"units": np.arange(int(budget) + 1), "covered_population": best + base})
    return choices, curve


def county_shapes(areas: gpd.GeoDataFrame, by: str, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Each county's polygon (the union of its areas) with its row of ``table`` (counties.csv)."""
    g = areas[[by, "geometry"]].assign(county=areas[by].astype(str))[["county", "geometry"]]
    shapes = g.dissolve(by="county", as_index=False)
    return shapes.merge(table, on="county", how="left")
