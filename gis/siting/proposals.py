"""What makes a siting answer actionable: where each proposal is (its area, its address), and,
when a coverage target cannot be reached, which candidate sets would reach it.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.region import Region

from .candidates import grid_candidates
from .coversets import network_cover_sets
from .problem import SitingProblem

__all__ = ["locate_in_areas", "unreachable_target_message", "GRID_SUGGESTION_M"]

log = logging.getLogger(__name__)

#: Grid spacing (metres) offered when a target is out of reach of the given candidates.
GRID_SUGGESTION_M = 500.0


def locate_in_areas(areas: gpd.GeoDataFrame, lon: np.ndarray,
                    lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The area (id, name) each point lies in, by point-in-polygon.

    A point on a shared border gets the first area listed; a point outside every area gets
    empty strings.

    Returns
    -------
    area_id, area_name : ndarray of str
    """
    n = len(lon)
    ids = np.full(n, "", dtype=object)
    names = np.full(n, "", dtype=object)
    if n == 0 or len(areas) == 0:
        return ids, names
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    if areas.crs is not None:
        pts = pts.to_crs(areas.crs)
    p_idx, a_idx = areas.sindex.query(pts.to_numpy(), predicate="intersects")
    order = np.lexsort((a_idx, p_idx))  # per point, the first area listed
    p_idx, a_idx = p_idx[order], a_idx[order]
    first = np.ones(len(p_idx), dtype=bool)
    first[1:] = p_idx[1:] != p_idx[:-1]
    ids[p_idx[first]] = areas["id"].astype(str).to_numpy()[a_idx[first]]
    names[p_idx[first]] = areas["name"].astype(str).to_numpy()[a_idx[first]]
    return ids, names


def _all_open_rate(problem: SitingProblem) -> float:
    """Coverage with every allowed candidate open (the candidate set's ceiling)."""
    total = float(problem.weights.sum())
    covered = problem.covered_by(~np.asarray(problem.forbidden, bool))
    return float(problem.weights[covered].sum()) / total if total > 0 else 1.0


def unreachable_target_message(region: Region, problem: SitingProblem, target: float,
                               reachable: np.ndarray, *, minutes: np.ndarray,
                               modes: np.ndarray, grid_m: float | None,
                               workers: int | None = None) -> str:
    """Why ``target`` is out of reach and which candidate set would reach it.

    The current candidates are all opened to give their ceiling; then a grid of new stations
    (``--grid``, :data:`GRID_SUGGESTION_M` apart, or half the spacing already used) is added
    and its ceiling computed on the network; the share of residents no road serves within
    ``max_snap_m`` bounds every candidate set.
    """
    pop = problem.weights
    total = float(pop.sum())
    best = _all_open_rate(problem)
    forbidden = np.asarray(problem.forbidden, bool)
    required = np.asarray(problem.required, bool)
    n_free = int((~forbidden & ~required).sum())
    n_kept = int(required.sum())
    parts = [f"the target of {target:.1%} cannot be reached: the current candidate set "
             f"({n_free} candidates and {n_kept} kept outlets, every one opened) tops out at "
             f"{best:.1%}"]
    spacing = GRID_SUGGESTION_M if grid_m is None else grid_m / 2.0
    mode = region.settings.circles["rural"].mode
    grid = grid_candidates(region.network, spacing_m=spacing, mode=mode)
    if len(grid):
        dem = region.demand
        cs = network_cover_sets(region.network, dem["lon"].to_numpy(), dem["lat"].to_numpy(),
                                minutes, modes, grid["lon"].to_numpy(), grid["lat"].to_numpy(),
                                max_snap_m=region.settings.max_snap_m, workers=workers)
        hit = problem.covered_by(~forbidden) | (np.diff(cs.times.indptr) > 0)
        with_grid = float(pop[hit].sum()) / total if total > 0 else 1.0
        verdict = "enough for the target" if with_grid >= target - 1e-12 else "still short"
        parts.append(f"with --grid {spacing:g} candidates ({len(grid)} more sites) the best "
                     f"reachable rate is {with_grid:.1%} ({verdict})")
    far = float(pop[~reachable].sum())
    if far > 0:
        parts.append(f"{far:,.0f} people ({far / total:.2%}) live more than "
                     f"{region.settings.max_snap_m:g} m from a road of their mode: no site "
                     f"can cover them")
    return "; ".join(parts)


def chosen_places(region: Region, chosen: pd.DataFrame) -> pd.DataFrame:
    """``chosen`` with ``area_id, area_name`` (point-in-polygon) and ``address`` filled."""
    out = chosen.copy()
    ids, names = locate_in_areas(region.areas, out["lon"].to_numpy(float),
                                 out["lat"].to_numpy(float))
    out["area_id"], out["area_name"] = ids, names
    if "address" not in out:
        out["address"] = ""
    out["address"] = out["address"].fillna("").astype(str)
    return out
