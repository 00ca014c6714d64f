"""Siting on a loaded region: candidates → cover sets → model → ranked sites, curve, areas.

The one function the CLI (and the demo) calls; it returns tables, writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.coverage import coverage_of_region
from gis.crs import BBox, pad_bbox
from gis.errors import InputError, InputProblem
from gis.items import ItemTable, item_coverage_of_region, items_of_region
from gis.region import Region, load_outlets
from gis.rules import point_circles, point_is_urban

from .candidates import CostTable, build_candidates, grid_candidates
from .coversets import network_cover_sets
from .models import solve_mclp, solve_pmedian, solve_set_cover
from .problem import InfeasibleTargetError, SitingProblem, SitingResult, SolveParams
from .proposals import chosen_places, unreachable_target_message
from .report import coverage_curve, rank_sites
from .weighted import added_along, weighted_demand

__all__ = ["SitingPlan", "plan_sites", "MODELS", "CHOSEN_COLUMNS", "CURVE_COLUMNS"]

log = logging.getLogger(__name__)

MODELS = ("mclp", "setcover", "pmedian")
CHOSEN_COLUMNS = ["site_id", "name", "kind", "lon", "lat", "area_id", "area_name", "address",
                  "added_population", "rank", "cost"]
#: Extra columns of ``chosen.csv`` when the region has an item catalogue: the number of items
#: a new outlet of the site's kind would handle, and (``--weighted``) the request-weighted
#: people it adds at its turn.
ITEM_COLUMNS = ["items", "added_weighted"]
CURVE_COLUMNS = ["sites", "cost", "covered_population", "coverage_rate"]
#: The curve of a ``--weighted`` run: request-weighted people and rate (items a site handles).
WEIGHTED_CURVE_COLUMNS = ["sites", "cost", "weighted_covered", "weighted_rate"]


@dataclass(frozen=True)
class SitingPlan:
    """A siting run on a region: the chosen sites, the curve, areas before/after."""

    result: SitingResult
    candidates: pd.DataFrame
    chosen: pd.DataFrame
    curve: pd.DataFrame
    areas: pd.DataFrame
    before: dict
    after: dict
    seconds: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    weighted: dict | None = None

    @property
    def curve_columns(self) -> list[str]:
        """Columns of ``curve.csv`` (request-weighted ones for a ``--weighted`` run)."""
        return WEIGHTED_CURVE_COLUMNS if self.weighted is not None else CURVE_COLUMNS

    def summary(self) -> str:
        """What a planner reads first."""
        b, a = self.before, self.after
        lines = [self.result.summary(),
                 f"region coverage: {b['coverage_rate']:.1%} → {a['coverage_rate']:.1%} "
                 f"(+{a['covered_population'] - b['covered_population']:,.0f} people)"]
        if self.weighted is not None:
            w = self.weighted
            lines.append(f"request-weighted coverage: {w['before']:.1%} → {w['after']:.1%} "
                         f"(+{w['after'] - w['before']:.1%} of expected requests)")
        lines += list(self.notes)
        for r in self.chosen.head(10).itertuples():
            lines.append(f"  {r.rank:>2}. {r.site_id} {r.name} ({r.kind}) "
                         f"+{r.added_population:,.0f}")
        if len(self.chosen) > 10:
            lines.append(f"  … and {len(self.chosen) - 10} more")
        return "\n".join(lines)


def _demand_circles(region: Region) -> tuple[np.ndarray, np.ndarray]:
    """Each demand point's circle (minutes, mode), by the one rule of :mod:`gis.rules`."""
    return point_circles(point_is_urban(region.demand, region.areas), region.settings.circles)


def _check(add, budget, target, model, weighted=False, replan=False) -> None:
    given = [n for n, v in (("--add", add), ("--budget", budget), ("--target", target))
             if v is not None]
    problems = []
    if len(given) != 1:
        problems.append(InputProblem("arguments", None, None, "give exactly one of --add K, "
                                f"--budget B or --target SHARE (got {', '.join(given) or 'none'})"))
    if model not in MODELS:
        problems.append(InputProblem("--model", None, None,
                                f"{model!r}: expected one of {', '.join(MODELS)}"))
    if add is not None and add < 1:
        problems.append(InputProblem("--add", None, None, f"{add}: expected a whole number >= 1"))
    if budget is not None and not budget > 0:
        problems.append(InputProblem("--budget", None, None, f"{budget}: expected a number > 0"))
    if target is not None and not 0 < target <= 1:
        problems.append(InputProblem("--target", None, None, f"{target}: expected a share in (0, 1]"))
    if model == "setcover" and target is None and not problems:
        problems.append(InputProblem("--model", None, None, "setcover needs --target SHARE"))
    if model == "pmedian" and add is None and not problems:
        problems.append(InputProblem("--model", None, None, "pmedian needs --add K"))
    if model == "mclp" and target is not None and not problems:
        problems.append(InputProblem("--model", None, None, "mclp takes --add or --budget; "
                                "--target goes with --model setcover"))
    if weighted and model != "mclp" and not problems:
        problems.append(InputProblem("--weighted", None, None, "weighted siting takes --add or "
                                     "--budget (model mclp)"))
    if weighted and replan:
        problems.append(InputProblem("--weighted", None, None, "--weighted keeps the existing "
                                     "outlets and their items; it cannot go with --replan"))
    if problems:
        raise InputError(problems)


def plan_sites(region: Region, *, add: int | None = None, budget: float | None = None,
               target: float | None = None, model: str | None = None,
               kinds: Collection[str] | None = None, candidates_path=None,
               replan: bool = False, grid_m: float | None = None,
               forbid: Collection[str] = (), costs: CostTable | None = None,
               params: SolveParams | None = None, curve_max: int = 15,
               workers: int | None = None, weighted: bool = False) -> SitingPlan:
    """Choose new sites for ``region``.

    Parameters
    ----------
    region
        A loaded region; its outlets are kept (unless ``replan``), its candidates file (and
        ``candidates_path``) gives the candidate sites.
    add, budget, target
        Exactly one: number of new sites, budget in cost units, or population share to cover.
    model
        ``mclp`` (default with ``add``/``budget``), ``setcover`` (default with ``target``) or
        ``pmedian``.
    kinds
        Candidate kinds to consider (e.g. ``post_office, carrier_shop``).
    grid_m
        Also offer a new station on a regular grid of network nodes this far apart.
    curve_max
        Longest coverage curve (new sites) to compute.
    weighted
        Maximise the request-weighted coverage (see :mod:`gis.siting.weighted`): needs the
        region's item catalogue; a new site handles the items its kind may be given.

    Notes
    -----
    A chosen site that adds nobody is never proposed: with ``add=K`` the answer may hold
    fewer sites, and :attr:`SitingPlan.notes` says why. A ``target`` out of reach names the
    ceiling of the current candidates and of a ``--grid`` candidate set.
    """
    model = model or ("setcover" if target is not None else "mclp")
    _check(add, budget, target, model, weighted, replan)
    params = params or SolveParams()
    t0 = time.perf_counter()
    items = items_of_region(region)
    if weighted and items is None:
        raise InputError(InputProblem(str(region.path / "region.toml"), None, "files.items",
                                      "--weighted needs an item catalogue: add "
                                      "`items = \"items.csv\"` under [files]"))
    tables = []
    for path in (region.files.get("candidates"), candidates_path):
        if path is not None:
            tables.append(load_outlets(path, datum=region.settings.datum, bbox=_bbox(region)))
    cand_in = pd.concat(tables, ignore_index=True) if tables else None
    grid = None
    if grid_m is not None:
        mode = region.settings.circles["rural"].mode
        grid = grid_candidates(region.network, spacing_m=grid_m, mode=mode)
    cands = build_candidates(region.outlets, cand_in, kinds=kinds, replan=replan, grid=grid,
                             costs=costs, forbid=forbid)
    if (~cands["required"] & ~cands["forbidden"]).sum() == 0:
        have = sorted(set(cand_in["kind"])) if cand_in is not None else []
        raise InputError(InputProblem("candidates", None, "kind",
                                 "no candidate sites to choose from"
                                 + (f" of kinds {', '.join(sorted(kinds))}" if kinds else "")
                                 + (f" (the candidate files have: {', '.join(have)})" if have
                                    else " (the region names no candidates file; use "
                                    "--candidates FILE, --grid METRES or --replan)")))
    minutes, modes = _demand_circles(region)
    dem = region.demand
    cs = network_cover_sets(region.network, dem["lon"].to_numpy(), dem["lat"].to_numpy(),
                            minutes, modes, cands["lon"].to_numpy(), cands["lat"].to_numpy(),
                            max_snap_m=region.settings.max_snap_m, workers=workers)
    t1 = time.perf_counter()
    problem = SitingProblem(cs.times, dem["population"].to_numpy(dtype=float),
                            cands["cost"].to_numpy(dtype=float),
                            required=cands["required"].to_numpy(dtype=bool),
                            forbidden=cands["forbidden"].to_numpy(dtype=bool),
                            capacity=cands["capacity"].to_numpy(dtype=float),
                            demand_ids=dem["id"].to_numpy(),
                            candidate_ids=cands["site_id"].to_numpy())
    plain = SitingProblem(cs.times, problem.weights, problem.costs, required=problem.required,
                          forbidden=problem.forbidden, demand_ids=problem.demand_ids,
                          candidate_ids=problem.candidate_ids)
    wd, w_before = None, None
    if weighted:
        assert items is not None
        base = coverage_of_region(region)
        ic = item_coverage_of_region(region, base=base, items=items)
        assert ic is not None
        cat = items.catalogue
        wd = weighted_demand(cs.times, problem.weights, cands["kind"].to_numpy(),
                             cat["weight"].to_numpy(float), list(cat["delegable_to"]),
                             ic.set_covered[:, ic.item_set], costs=problem.costs,
                             required=problem.required, forbidden=problem.forbidden,
                             candidate_ids=problem.candidate_ids)
        problem = wd.problem
        w_before = float(ic.total["weighted_rate"])
    try:
        if model == "mclp":
            result = solve_mclp(problem, p=add, budget=budget, params=params)
        elif model == "setcover":
            assert target is not None  # _check: setcover needs a target
            result = solve_set_cover(problem, target=target, params=params)
        else:
            assert add is not None  # _check: pmedian needs --add
            result = solve_pmedian(problem, p=add, penalty_s=2 * 60 * float(minutes.max()),
                                   params=params)
    except InfeasibleTargetError as exc:
        assert target is not None
        msg = unreachable_target_message(region, plain, target, cs.reachable, minutes=minutes,
                                         modes=modes, grid_m=grid_m, workers=workers)
        raise InputError(InputProblem("--target", None, None, f"{msg} ({exc})")) from exc
    t2 = time.perf_counter()
    ranked = rank_sites(problem, result)  # weighted run: ordered by request-weighted gain
    order = ranked["index"].to_numpy()
    chosen = chosen_places(region, cands.iloc[order].reset_index(drop=True))
    base_sites = np.flatnonzero(np.asarray(plain.required, bool))
    chosen["added_population"] = np.round(
        added_along(plain.cover, plain.weights, order, base_sites), 1)
    chosen["rank"] = ranked["rank"].to_numpy()
    columns = list(CHOSEN_COLUMNS)
    if items is not None:
        n_items = _items_per_kind(items)
        chosen["items"] = chosen["kind"].map(lambda k: n_items.get(k, 0)).astype(int)
        columns.append("items")
    if wd is not None:
        chosen["added_weighted"] = np.round(ranked["added_population"].to_numpy(), 1)
        columns.append("added_weighted")
    chosen = chosen[columns]
    k_max = min(max(len(result.new), add or 0), curve_max)
    if add is not None and len(result.new) < add and result.is_optimal:
        k_max = min(len(result.new), curve_max)  # more sites cannot add anyone
    curve = coverage_curve(problem if wd is not None else plain, k_max, params=params)
    t3 = time.perf_counter()
    areas, before, after = _areas(region, cands, result)
    plain_after = float(plain.weights[plain.covered_by(result.open)].sum())
    if abs(after["covered_population"] - plain_after) > 1e-6 * max(
            1.0, result.total_weight) and not problem.capacitated:
        log.warning("siting and coverage disagree: %.1f vs %.1f people covered",
                    plain_after, after["covered_population"])
    w_info = None
    if wd is not None:
        assert w_before is not None
        total_pop = float(plain.weights.sum())
        gain = result.covered_weight  # required sites cover no weighted row
        w_info = {"before": w_before, "after": w_before + gain / total_pop}
        curve = curve.rename(columns={"covered_population": "weighted_covered"})
        curve["weighted_rate"] = np.round(w_before + curve["weighted_covered"] / total_pop, 5)
        curve["weighted_covered"] = np.round(curve["weighted_covered"], 1)
    secs = {"cover_sets": round(t1 - t0, 3), "model": round(t2 - t1, 3),
            "curve": round(t3 - t2, 3), "areas": round(time.perf_counter() - t3, 3)}
    log.info("siting times: %s", secs)
    notes = _notes(result, add, len(chosen), weighted)
    if add is None and result.stats.get("idle_dropped"):
        notes += (f"{result.stats['idle_dropped']} site(s) the solver also picked add nobody "
                  "and are not proposed.",)
    cols = (WEIGHTED_CURVE_COLUMNS if wd is not None else CURVE_COLUMNS) + ["status", "gap"]
    return SitingPlan(result, cands, chosen, curve[cols], areas, before, after, secs,
                      notes, w_info)


def _items_per_kind(items: ItemTable) -> dict[str, int]:
    """How many catalogue items a new outlet of each kind may be given."""
    counts: dict[str, int] = {}
    for ks in items.catalogue["delegable_to"]:
        for k in ks:
            counts[k] = counts.get(k, 0) + 1
    return counts


def _notes(result: SitingResult, add: int | None, n_chosen: int, weighted: bool) -> tuple[str, ...]:
    """Why fewer sites than asked for were proposed."""
    if add is None or n_chosen >= add:
        return ()
    what = "request-weighted coverage" if weighted else "anyone"
    proven = result.status == "optimal"
    why = (f"no other candidate adds {what}: every person a remaining candidate reaches is "
           "already covered" if proven else "the solver stopped before proving that more "
           "sites cannot add anyone")
    return (f"stopped at {n_chosen} of the {add} sites asked for: {why}. Offer more "
            "candidates (--candidates FILE, --grid METRES) to go further.",)


#: Candidate sites further than this outside the road network's extent are not read.
CANDIDATE_PAD_M = 2_000.0


def _bbox(region: Region) -> BBox:
    return pad_bbox(region.bbox(), CANDIDATE_PAD_M, crs=region.network.crs)


def _areas(region: Region, cands: pd.DataFrame, result: SitingResult):
    """Coverage per area before and after, computed by :mod:`gis.coverage` itself."""
    def outlets_of(mask: np.ndarray) -> gpd.GeoDataFrame:
        sel = cands[mask]
        return gpd.GeoDataFrame({"id": sel["site_id"].to_numpy(), "name": sel["name"].to_numpy(),
                                 "kind": sel["kind"].to_numpy(), "lon": sel["lon"].to_numpy(),
                                 "lat": sel["lat"].to_numpy()},
                                geometry=gpd.points_from_xy(sel["lon"], sel["lat"]),
                                crs="EPSG:4326")

    before = coverage_of_region(region)
    after = coverage_of_region(region, outlets=outlets_of(result.open))
    a, b = after.areas, before.areas
    table = pd.DataFrame({
        "area_id": a["area_id"], "name": a["name"], "urban": a["urban"],
        "population": a["population"],
        "covered_before": b.set_index("area_id").loc[a["area_id"], "covered_population"].to_numpy(),
        "covered_after": a["covered_population"],
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        table["rate_before"] = np.round(table["covered_before"] / table["population"], 4)
        table["rate_after"] = np.round(table["covered_after"] / table["population"], 4)
    table["gain"] = table["covered_after"] - table["covered_before"]
    return table, before.total, after.total
