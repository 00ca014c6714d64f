"""The 15/30-minute service-circle check: time from every demand point to its nearest outlet.

Time = walking access leg (demand point to its network node) + network time + walking egress leg
(the outlet's network node to the outlet). Each demand point is judged against its own area's
circle (urban 15 minutes, rural 30 minutes by default, each with its own mode). Network times are
one multi-source shortest-path search per mode on the reversed graph (:mod:`gis._sssp`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from .defaults import DETOUR_FLAG_RATIO, DETOUR_MIN_M, FALLBACK_KMH
from .islands import demand_times, outlet_sources, reasons
from .network import RoadNetwork
from .region import Region, RegionSettings
from .rules import point_circles, point_is_urban, shown_minutes, within_circle

__all__ = ["CoverageResult", "CoverageTotals", "compute_coverage", "coverage_from_points",
           "coverage_of_region",
           "weighted_quantile"]

log = logging.getLogger(__name__)


def weighted_quantile(values: np.ndarray, weights: np.ndarray,
                      q: float | Sequence[float]) -> float | list[float]:
    """The population-weighted ``q`` quantile (lower; NaN when there is no weight).

    ``q`` may be a sequence: the values are sorted once and a list is returned.
    """
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        out = [float("nan")] * len(qs)
    else:
        v, w = values[ok], weights[ok]
        order = np.argsort(v, kind="stable")
        v, w = v[order], w[order]
        cum = np.cumsum(w)
        k = np.searchsorted(cum, qs * cum[-1] - 1e-9 * cum[-1])
        out = [float(x) for x in v[np.minimum(k, len(v) - 1)]]
    return out if np.ndim(q) else out[0]


def grouped_weighted_quantile(codes: np.ndarray, k: int, values: np.ndarray,
                              weights: np.ndarray, q: float | Sequence[float]) -> np.ndarray:
    """:func:`weighted_quantile` for each of ``k`` groups at once (``codes`` in 0..k-1).

    With a sequence ``q`` the result has one row per quantile (one sort for all of them).
    """
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    ok = np.isfinite(values) & (weights > 0)
    c, v, w = codes[ok], values[ok], weights[ok].astype(float)
    out = np.full((len(qs), k), np.nan)
    if len(c):
        order = np.lexsort((v, c))
        c, v, w = c[order], v[order], w[order]
        cum = np.cumsum(w)
        total = np.bincount(c, weights=w, minlength=k)
        start = np.searchsorted(c, np.arange(k))
        before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
        before[start == 0] = 0.0
        has = total > 0
        for i, qi in enumerate(qs):
            target = before + qi * total - 1e-9 * np.maximum(total, 1)
            idx = np.searchsorted(cum, target)
            out[i, has] = v[np.minimum(idx[has], len(v) - 1)]
    return out if np.ndim(q) else out[0]


class CoverageTotals(TypedDict):
    """The region's headline numbers (people; minutes to two decimals)."""

    population: float
    covered_population: float
    coverage_rate: float
    unreachable_population: float
    median_minutes: float
    p90_minutes: float


@dataclass(frozen=True)
class CoverageResult:
    """Per demand point and per area coverage, and the uncovered gaps."""

    points: gpd.GeoDataFrame
    areas: pd.DataFrame
    total: CoverageTotals

    @property
    def unreachable(self) -> gpd.GeoDataFrame:
        """Demand points that reach no outlet, with ``unreachable_reason`` and its detail.

        The ``unreachable`` layer of ``coverage.gpkg`` and of the planning map.
        """
        cols = ["demand_id", "area_id", "population", "mode", "snap_m", "unreachable_reason",
                "unreachable_detail", "geometry"]
        return self.points.loc[~self.points["reachable"], cols]

    @property
    def uncovered(self) -> gpd.GeoDataFrame:
        """Demand points outside their circle (unreachable ones included)."""
        return self.points[~self.points["covered"]]

    def summary(self) -> str:
        """The region's headline numbers in one line."""
        t = self.total
        return (f"{t['covered_population']:,.0f} of {t['population']:,.0f} people "
                f"({t['coverage_rate']:.1%}) live inside their service circle; "
                f"{t['unreachable_population']:,.0f} cannot reach any outlet by road")


def compute_coverage(network: RoadNetwork, settings: RegionSettings, outlets: gpd.GeoDataFrame,
                     demand: gpd.GeoDataFrame, areas: pd.DataFrame) -> CoverageResult:
    """Compute coverage of ``demand`` by ``outlets`` on ``network``.

    Demand points further than ``settings.max_snap_m`` from any road of their mode are
    *unreachable* (no time, not covered), never zero or infinity in a table.
    """
    n = len(demand)
    urban = point_is_urban(demand, areas)
    seconds = np.full(n, np.inf)
    outlet_idx = np.full(n, -1, dtype=np.int64)
    threshold, mode_col = point_circles(urban, settings.circles)
    olon, olat = outlets["lon"].to_numpy(), outlets["lat"].to_numpy()
    snap_m = np.full(n, np.nan)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    per_mode: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # one Dijkstra per mode in use
    for kind, circle in settings.circles.items():
        sel = np.flatnonzero(urban if kind == "urban" else ~urban)
        if len(sel) == 0 or len(outlets) == 0:
            continue
        if circle.mode not in per_mode:  # outlets are sources on the main network and islands
            src, off, owner = outlet_sources(network, olon, olat, mode=circle.mode,
                                             max_snap_m=settings.max_snap_m)
            per_mode[circle.mode] = (*network.times_to_nearest(src, mode=circle.mode,
                                                               offsets_s=off), owner)
        node_s, which, owner = per_mode[circle.mode]
        dlon, dlat = demand["lon"].to_numpy()[sel], demand["lat"].to_numpy()[sel]
        t, o, snap_m[sel], near_m = demand_times(network, node_s, which, dlon, dlat,
                                                 mode=circle.mode, owner=owner,
                                                 max_snap_m=settings.max_snap_m)
        seconds[sel], outlet_idx[sel] = t, o
        reason[sel], detail[sel] = reasons(network, dlon, dlat, np.isfinite(t), near_m,
                                           mode=circle.mode, max_snap_m=settings.max_snap_m,
                                           outlet_lon=olon, outlet_lat=olat,
                                           outlet_ids=outlets["id"].to_numpy(dtype=object))
    reachable = np.isfinite(seconds)
    ratio, flag, flag_detail = _detours(network, demand, outlets, seconds, outlet_idx, mode_col)
    # minutes are shown to 2 decimals; "covered" is judged on exactly what is shown
    minutes = shown_minutes(np.where(reachable, seconds, np.nan))
    covered = reachable & within_circle(seconds, threshold)
    outlet_ids = outlets["id"].to_numpy(dtype=object)
    points = gpd.GeoDataFrame({
        "demand_id": demand["id"].to_numpy(),
        "area_id": demand["area_id"].to_numpy(),
        "population": demand["population"].to_numpy(dtype=float),
        "mode": mode_col,
        "minutes": minutes,
        "threshold_minutes": threshold,
        "covered": covered,
        "reachable": reachable,
        "outlet_id": np.where(outlet_idx >= 0, outlet_ids[np.maximum(outlet_idx, 0)], None)
        if len(outlet_ids) else np.full(n, None, dtype=object),
        "snap_m": np.round(snap_m, 1),
        "unreachable_reason": np.where(reachable, "", reason),
        "unreachable_detail": np.where(reachable, "", detail),
        "detour_ratio": ratio,
        "flag": flag,
        "flag_detail": flag_detail,
    }, geometry=demand.geometry.values, crs=demand.crs)
    return coverage_from_points(points, areas)


def coverage_from_points(points: gpd.GeoDataFrame, areas: pd.DataFrame) -> CoverageResult:
    """The area table and the region's totals from the per-point table.

    The one aggregation: the whole run and a partitioned run (:mod:`gis.partition`, which
    concatenates the partitions' point tables) both end here.
    """
    table = _area_table(points, areas)
    pop = points["population"].to_numpy(dtype=float)
    covered = points["covered"].to_numpy(dtype=bool)
    reachable = points["reachable"].to_numpy(dtype=bool)
    minutes = points["minutes"].to_numpy(dtype=float)
    median, p90 = np.asarray(weighted_quantile(minutes, pop, (0.5, 0.9)), dtype=float).tolist()
    total = CoverageTotals(
        population=float(pop.sum()),
        covered_population=float(pop[covered].sum()),
        coverage_rate=float(pop[covered].sum() / pop.sum()) if pop.sum() > 0 else float("nan"),
        unreachable_population=float(pop[~reachable].sum()),
        median_minutes=median,
        p90_minutes=p90,
    )
    return CoverageResult(points=points, areas=table, total=total)


def _mode_kmh(mode: str, network: RoadNetwork) -> float:
    """The speed a straight line is timed at: the mode's own (drive: the fallback speed)."""
    sp = network.speeds
    return {"walk": sp.walk_kmh, "ebike": sp.ebike_kmh}.get(mode, FALLBACK_KMH[mode])


def _detours(network: RoadNetwork, demand: pd.DataFrame, outlets: pd.DataFrame,
             seconds: np.ndarray, outlet_idx: np.ndarray, modes: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``detour_ratio`` (door-to-door time / straight line to the same outlet at the mode's
    speed), and the ``long_detour`` flag with its detail, per point (NaN / "" when unreachable).

    Flagged when the ratio exceeds :data:`gis.defaults.DETOUR_FLAG_RATIO` and the straight
    line is at least :data:`gis.defaults.DETOUR_MIN_M`.
    """
    n = len(seconds)
    ratio = np.full(n, np.nan)
    flag = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    ok = np.flatnonzero(np.isfinite(seconds) & (outlet_idx >= 0))
    if len(ok) == 0:
        return ratio, flag, detail
    px, py = network.project(demand["lon"].to_numpy()[ok], demand["lat"].to_numpy()[ok])
    o = outlet_idx[ok]
    ox, oy = network.project(outlets["lon"].to_numpy()[o], outlets["lat"].to_numpy()[o])
    dist = np.hypot(px - ox, py - oy)
    kmh = np.array([_mode_kmh(m, network) for m in modes[ok]])
    straight_s = dist / (kmh / 3.6)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(dist >= 1.0, seconds[ok] / straight_s, np.nan)
    ratio[ok] = np.round(r, 2)
    ids = outlets["id"].to_numpy(dtype=object)
    for j in np.flatnonzero((r > DETOUR_FLAG_RATIO) & (dist >= DETOUR_MIN_M)):
        i = ok[j]
        flag[i] = "long_detour"
        detail[i] = (f"{seconds[i] / 60:.0f} min by road to {ids[o[j]]}, "
                     f"{straight_s[j] / 60:.0f} min in a straight line ({dist[j] / 1000:.1f} km) "
                     f"at {kmh[j]:g} km/h: the roads make people go {r[j]:.1f}x the straight "
                     "line (a missing path or bridge, or a wrong tag? see docs/guide.md)")
    return ratio, flag, detail


def _area_table(points: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    pop = points["population"].to_numpy()
    cov = points["covered"].to_numpy()
    mins = points["minutes"].to_numpy(dtype=float)
    reach = points["reachable"].to_numpy()
    codes, uniques = pd.factorize(points["area_id"])
    k = len(uniques)
    population = np.bincount(codes, weights=pop, minlength=k)
    covered_population = np.bincount(codes, weights=pop * cov, minlength=k)
    unreachable = np.bincount(codes, weights=pop * ~reach, minlength=k)
    med, p90 = grouped_weighted_quantile(codes, k, mins, pop, (0.5, 0.9))
    per = pd.DataFrame({"area_id": uniques, "population": population,
                        "covered_population": covered_population,
                        "unreachable_population": unreachable,
                        "median_minutes": np.round(med, 2), "p90_minutes": np.round(p90, 2)})
    base = pd.DataFrame({"area_id": areas["id"].to_numpy(), "name": areas["name"].to_numpy(),
                         "urban": areas["urban"].to_numpy(dtype=bool)})
    out = base.merge(per, on="area_id", how="left")
    for c in ("population", "covered_population", "unreachable_population"):
        out[c] = out[c].fillna(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["coverage_rate"] = np.round(out["covered_population"] / out["population"], 4)
    cols = ["area_id", "name", "urban", "population", "covered_population", "coverage_rate",
            "unreachable_population", "median_minutes", "p90_minutes"]
    return out[cols]


def coverage_of_region(region: Region, outlets: gpd.GeoDataFrame | None = None) -> CoverageResult:
    """Coverage of a loaded region by its outlets (or by ``outlets`` given here)."""
    return compute_coverage(region.network, region.settings,
                            region.outlets if outlets is None else outlets,
                            region.demand, region.areas)
