"""A province's siting and delegation curves, county by county, and the exact budget split.

Each county (a partition of :func:`gis.partition.plan_pieces`) runs the existing siting curve
(:func:`gis.siting.plan.plan_sites` with ``curve_max``: new sites → covered population) and,
with an item catalogue, the delegation curve (:func:`gis.siting.delegation.solve_delegation`
for ``1 … M`` pairs → request-weighted people) on its own piece: the network cut around its
demand points with the border buffer of :mod:`gis.partition`, every outlet inside the buffer,
and only **its own** candidates (those inside its areas) and its own outlets as delegation
targets — so the counties' curves are independent and :func:`gis.partition_province.split_budget`
splits a province budget across them exactly. The candidates' whole-network snap nodes are
kept in the piece like the outlets', so a county's curve equals the same county run alone on
the whole network (tested). A second round re-runs, with the units each county was given, the
counties whose share is below the curve's length, to name their chosen sites.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .coverage import CoverageResult, compute_coverage
from .io import write_csv
from .items import ItemCoverage, ItemTable, item_coverage
from .network import RoadNetwork
from .partition import (
    Mapper,
    _Clipper,
    _peak_reset,
    buffer_rule,
    build_piece,
    open_cache,
    plan_pieces,
    serial_map,
    task_peak_mb,
    write_network_cache,
)
from .partition_province import split_budget
from .region import Region, RegionSettings

if TYPE_CHECKING:
    from .siting.delegation import DelegationProblem

__all__ = ["CountyCurves", "ProvincePlan", "county_of_points", "county_curves",
           "county_delegation_problem", "province_plan", "province_setup", "run_county_file"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountyCurves:
    """What travels back from one county: its curves and chosen sites / pairs."""

    key: str
    sites_curve: np.ndarray | None
    sites_chosen: pd.DataFrame | None
    deleg_curve: np.ndarray | None
    deleg_chosen: list[pd.DataFrame] | None
    peak_mb: float = float("nan")
    sites_cost: np.ndarray | None = None
    deleg_cost: np.ndarray | None = None


@dataclass(frozen=True)
class ProvincePlan:
    """The province's split: per-county tables and the province curves."""

    sites: pd.DataFrame | None
    sites_curve: pd.DataFrame | None
    delegations: pd.DataFrame | None
    delegations_curve: pd.DataFrame | None
    curves: dict[str, dict[str, np.ndarray | None]]

    def write(self, folder: Path) -> list[Path]:
        """``sites.csv``, ``curve.csv``, ``delegations.csv``, ``delegation_curve.csv``."""
        out = []
        for name, df in (("sites.csv", self.sites), ("curve.csv", self.sites_curve),
                         ("delegations.csv", self.delegations),
                         ("delegation_curve.csv", self.delegations_curve)):
            if df is not None:
                out.append(write_csv(df, folder / name))
        return out


def county_of_points(areas: gpd.GeoDataFrame, by: str, lon: np.ndarray, lat: np.ndarray
                     ) -> np.ndarray:
    """The ``by`` value of the area holding each point (``""`` outside every area)."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    a = areas[[by, "geometry"]].to_crs("EPSG:4326")
    j = gpd.sjoin(pts, a, how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")].sort_index()
    return j[by].fillna("").astype(str).to_numpy(dtype=object)


def county_curves(region: Region, *, sites: int = 0, delegations: int = 0,
                  items: ItemTable | None = None, own: np.ndarray | None = None,
                  chosen_only: bool = False) -> CountyCurves:
    """One county's curves on ``region`` (its demand, the outlets, its candidates file).

    ``sites``: the siting curve for ``0 … sites`` new sites (``plan_sites``, model mclp) and
    the sites chosen for ``sites``; ``delegations``: the best request-weighted people for
    ``0 … delegations`` pairs, delegating only to the outlets where ``own`` is true, and the
    pairs of each. ``chosen_only``: skip the curve (``curve_max=0``).
    """
    from .siting.delegation import solve_delegation
    from .siting.plan import plan_sites

    key = region.settings.name
    s_curve, s_chosen, d_curve, d_chosen = None, None, None, None
    s_cost: np.ndarray | None = None
    d_cost: np.ndarray | None = None
    base = None
    if sites > 0:
        cand = region.files.get("candidates")
        if cand is not None and len(pd.read_csv(cand, nrows=1)):
            plan = plan_sites(region, add=sites, model="mclp",
                              curve_max=0 if chosen_only else sites)
            s_curve = plan.curve["covered_population"].to_numpy(float)
            s_cost = plan.curve["cost"].to_numpy(float)
            s_chosen = plan.chosen
        else:
            base = compute_coverage(region.network, region.settings, region.outlets,
                                    region.demand, region.areas)
            s_curve = np.array([float(base.total["covered_population"])])
            s_cost = np.zeros(1)
            s_chosen = pd.DataFrame(columns=["site_id", "name"])
        if not chosen_only and s_cost is not None:
            s_curve = np.r_[s_curve, np.full(sites + 1 - len(s_curve), s_curve[-1])]
            s_cost = np.r_[s_cost, np.full(sites + 1 - len(s_cost), s_cost[-1])]
    if delegations > 0 and items is not None:
        p, _ = county_delegation_problem(region, items, own, base)
        before = float(sum(p.weight[j] * p.population[p.covered[:, j]].sum()
                           for j in range(len(p.weight))))
        d_curve, d_chosen = np.full(delegations + 1, before), [pd.DataFrame()]
        d_cost = np.zeros(delegations + 1)
        ids, item_ids = region.outlets["id"].to_numpy(), items.catalogue["id"].to_numpy()
        for k in range(1, delegations + 1):
            res = solve_delegation(p, add=k)
            d_curve[k] = before + res.value
            d_cost[k] = float(sum(p.cost[o] for o, _ in res.pairs))
            d_chosen.append(pd.DataFrame({"outlet_id": [ids[o] for o, _ in res.pairs],
                                          "item_id": [item_ids[j] for _, j in res.pairs]}))
    return CountyCurves(key, s_curve, s_chosen, d_curve, d_chosen, sites_cost=s_cost,
                        deleg_cost=d_cost)


def county_delegation_problem(region: Region, items: ItemTable, own: np.ndarray | None,
                              base: CoverageResult | None = None
                              ) -> tuple[DelegationProblem, ItemCoverage]:
    """The county's delegation problem, delegating only to the outlets where ``own`` is true."""
    from .siting.delegation import DelegationProblem
    from .siting.delegation_plan import delegation_problem

    base = base if base is not None else compute_coverage(
        region.network, region.settings, region.outlets, region.demand, region.areas)
    ic = item_coverage(region.network, region.settings, region.outlets, region.demand,
                       region.areas, items, base=base)
    p = delegation_problem(region, items, ic, base.points)
    allowed = p.allowed & (np.ones(len(p.allowed), bool) if own is None
                           else np.asarray(own, bool))[:, None]
    return DelegationProblem(p.cover, p.population, p.weight, p.covered, allowed, p.cost), ic


def run_county_file(path: str) -> CountyCurves:
    """What a worker runs: cut the county's piece from the cached network, run its curves.

    The returned ``peak_mb`` is this worker's own high-water mark over the task (reset at its
    start, so nothing inherited from the process that started the worker counts).
    """
    _peak_reset()
    with open(path, "rb") as fh:
        t: dict[str, Any] = pickle.load(fh)
    piece = build_piece(t["spec"], open_cache(Path(path).parent.parent / "network"))
    region = _piece_region(piece.network, piece.settings, t, piece.demand)
    res = county_curves(region, sites=t["sites"], delegations=t["delegations"],
                        items=t["items"], own=t["own"], chosen_only=t["chosen_only"])
    return replace(res, peak_mb=task_peak_mb())


def _piece_region(net: RoadNetwork, settings: RegionSettings, t: dict[str, Any],
                  demand: gpd.GeoDataFrame) -> Region:
    """The county as a region on its piece (its areas with their polygons)."""
    return Region(path=Path(t["region_path"]), settings=replace(settings, name=t["key"]),
                  network=net, outlets=t["outlets"], demand=demand, areas=t["areas"],
                  files={"candidates": Path(t["candidates"])})


def _write_tasks(clip: _Clipper, parts: list[tuple[str, np.ndarray]], region: Region, by: str,
                 cands: gpd.GeoDataFrame, cand_county: np.ndarray, out_county: np.ndarray,
                 units: dict[str, dict[str, int]], items: ItemTable | None, folder: Path,
                 chosen_only: bool) -> list[str]:
    rule = buffer_rule(region.network, region.settings)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (key, rows) in enumerate(parts):
        spec = clip.spec(key, rows, region.areas, rule)
        o = spec.outlets
        real = o["_real"].to_numpy(dtype=bool)
        sel = o["_i"].to_numpy()[real]
        mine = o["_i"].to_numpy()[~real & (o["_c"].astype(str).to_numpy() == key)]
        cpath = folder / f"county-{i:05d}.candidates.csv"
        keep = [c for c in ("id", "name", "kind", "lon", "lat", "cost", "capacity")
                if c in cands.columns]
        pd.DataFrame(cands.iloc[mine][keep]).to_csv(cpath, index=False)
        t = {"spec": spec, "key": key, "region_path": str(region.path),
             "outlets": region.outlets.iloc[sel].reset_index(drop=True),
             "areas": region.areas[region.areas[by].astype(str) == key].reset_index(drop=True),
             "candidates": str(cpath), "sites": units["sites"].get(key, 0),
             "delegations": units["delegations"].get(key, 0),
             "items": None if items is None else ItemTable(items.catalogue, items.handles[sel]),
             "own": out_county[sel] == key, "chosen_only": chosen_only}
        path = folder / f"county-{i:05d}.pkl"
        with open(path, "wb") as fh:
            pickle.dump(t, fh, protocol=5)
        paths.append(str(path))
    return paths


def province_setup(region: Region, by: str, sites: int,
                   candidates: gpd.GeoDataFrame | None = None
                   ) -> tuple[_Clipper, list[tuple[str, np.ndarray]], gpd.GeoDataFrame,
                              np.ndarray, np.ndarray]:
    """The partitions of ``region`` by ``by`` with the candidates as extra outlets (their
    snap nodes kept in the pieces): ``(clip, parts, candidates, their county, outlets'
    county)``. Raises :class:`gis.errors.InputError` when the areas lack ``by``.
    """
    from .partition import check_partition_field
    from .region import load_outlets

    check_partition_field(region, by)

    if candidates is None and sites > 0 and region.files.get("candidates") is not None:
        candidates = load_outlets(region.files["candidates"], datum=region.settings.datum)
    cands = candidates if candidates is not None else gpd.GeoDataFrame(
        {"id": [], "name": [], "kind": [], "lon": [], "lat": []},
        geometry=gpd.points_from_xy([], []), crs="EPSG:4326")
    cand_county = county_of_points(region.areas, by, cands["lon"].to_numpy(float),
                                   cands["lat"].to_numpy(float))
    out_county = county_of_points(region.areas, by, region.outlets["lon"].to_numpy(float),
                                  region.outlets["lat"].to_numpy(float))
    both = pd.concat([
        pd.DataFrame({"lon": region.outlets["lon"].to_numpy(float),
                      "lat": region.outlets["lat"].to_numpy(float), "_c": "", "_real": True,
                      "_i": np.arange(len(region.outlets))}),
        pd.DataFrame({"lon": cands["lon"].to_numpy(float), "lat": cands["lat"].to_numpy(float),
                      "_c": cand_county, "_real": False,
                      "_i": np.arange(len(cands))})], ignore_index=True)
    pseudo = Region(path=region.path, settings=region.settings, network=region.network,
                    outlets=gpd.GeoDataFrame(both, geometry=gpd.points_from_xy(
                        both["lon"], both["lat"]), crs="EPSG:4326"),
                    demand=region.demand, areas=region.areas, files=region.files)
    clip, parts = plan_pieces(pseudo, by)
    return clip, parts, cands, cand_county, out_county


def province_plan(region: Region, by: str, *, sites: int = 0, delegations: int = 0,
                  candidates: gpd.GeoDataFrame | None = None, items: ItemTable | None = None,
                  mapper: Mapper = serial_map,
                  task: Callable[[str], CountyCurves] = run_county_file,
                  workdir: str | Path | None = None) -> ProvincePlan:
    """Per-county curves as tasks (``mapper``), then the exact split of the province budgets.

    Parameters
    ----------
    sites, delegations
        The province's budgets of new sites and of item delegations (pairs).
    candidates
        Candidate sites (:func:`gis.region.load_outlets` columns); default the region's
        candidates file. A candidate belongs to the county whose area holds it.
    items
        The item catalogue (needed for delegations).
    """
    clip, parts, cands, cand_county, out_county = province_setup(region, by, sites,
                                                                candidates)
    keys = [k for k, _ in parts]
    d = delegations if items is not None else 0
    full = {"sites": dict.fromkeys(keys, sites), "delegations": dict.fromkeys(keys, d)}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        clip.use_cache(write_network_cache(clip.net, Path(tmp) / "network"))
        paths = _write_tasks(clip, parts, region, by, cands, cand_county, out_county, full, items,
                             Path(tmp) / "curves", chosen_only=False)
        res: dict[str, CountyCurves] = {r.key: r for r in mapper(task, paths)}
        peaks = [r.peak_mb for r in res.values()]
        log.info("county tasks' own peak memory: max %.0f MB", max(peaks, default=np.nan))
        s_tab = s_curve = d_tab = d_curve = None
        if sites > 0:
            choice, s_curve = split_budget({k: r.sites_curve for k, r in res.items()
                                            if r.sites_curve is not None}, sites)
            # counties given fewer sites than their curve run: name their chosen sites anew
            again = {k: int(u) for k, u in zip(choice["county"], choice["units"], strict=True)
                     if 0 < u < sites}
            chosen = {k: r.sites_chosen for k, r in res.items()}
            if again:
                sub = [(k, rows) for k, rows in parts if k in again]
                p2 = _write_tasks(clip, sub, region, by, cands, cand_county, out_county,
                                  {"sites": again, "delegations": {}}, None,
                                  Path(tmp) / "chosen", chosen_only=True)
                chosen.update({r.key: r.sites_chosen for r in mapper(task, p2)})
            ids = [";".join(map(str, chosen[k]["site_id"]))  # type: ignore[index]
                   if u > 0 and chosen[k] is not None else ""
                   for k, u in zip(choice["county"], choice["units"], strict=True)]
            s_tab = choice.rename(columns={"units": "sites"}).assign(site_ids=ids)
            s_curve = s_curve.rename(columns={"units": "sites"})
        if d > 0:
            choice, d_curve = split_budget({k: r.deleg_curve for k, r in res.items()
                                            if r.deleg_curve is not None}, d)
            pairs = []
            for k, u in zip(choice["county"], choice["units"], strict=True):
                c = res[k].deleg_chosen
                pairs.append("" if u == 0 or c is None else ";".join(
                    f"{o}:{i}" for o, i in zip(c[u]["outlet_id"], c[u]["item_id"],
                                               strict=True)))
            d_tab = choice.rename(columns={"units": "delegations",
                                           "covered_population": "weighted_covered"}
                                  ).assign(pairs=pairs)
            d_curve = d_curve.rename(columns={"units": "delegations",
                                              "covered_population": "weighted_covered"})
    curves = {k: {"sites": r.sites_curve, "delegations": r.deleg_curve}
              for k, r in res.items()}
    return ProvincePlan(s_tab, s_curve, d_tab, d_curve, curves)
