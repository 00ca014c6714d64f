"""Service items (事项): the catalogue, which outlet handles which item, coverage per item.

A resident is inside the circle *for an item* only when an outlet that handles the item is
within their circle. The catalogue (``[files] items`` in ``region.toml``) lists the items; the
outlets' ``services`` column (ids or names separated by ``;`` or ``；``, ``*`` = every item) or a
long table ``[files] outlet_items`` (``outlet_id,item_id``) says who handles what. When the long
table is given it is the only source, and the free-text ``services`` column is not parsed.

Items whose outlet sets are identical share one nearest-outlet search: the whole catalogue
costs as many searches as there are distinct outlet sets (``*`` items reuse the all-outlet
search the plain coverage already made). Each search is :func:`gis.coverage.compute_coverage` on
the outlet subset, so "inside the circle" is judged by exactly the rule of the plain coverage.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .coverage import CoverageResult, grouped_weighted_quantile, weighted_quantile
from .errors import InputError, InputProblem
from .io import Column, read_table, validate_table
from .islands import outlet_sources
from .network import RoadNetwork
from .region import OUTLET_KINDS, Region, RegionSettings
from .rules import shown_minutes, snapped, within_circle

__all__ = ["ITEM_COLUMNS", "ITEM_TABLE_COLUMNS", "ItemTable", "ItemCoverage", "load_catalogue",
           "parse_services", "read_outlet_items", "items_of_region", "item_coverage",
           "item_coverage_of_region", "ItemPoints", "item_points", "item_tables",
           "uncovered_by_set"]

log = logging.getLogger(__name__)

ITEM_COLUMNS = [
    Column("id"), Column("name"), Column("name_en", required=False),
    Column("category", required=False), Column("delegable_to", required=False),
    Column("weight", "float", required=False, minimum=0),
    Column("in_person", "bool", required=False),
    Column("runner_can_carry", "bool", required=False),
]
#: Columns of ``OUT/coverage/items.csv``.
ITEM_TABLE_COLUMNS = ["item_id", "item_name", "area_id", "population", "covered_population",
                      "coverage_rate", "median_minutes", "p90_minutes"]

_SEP = re.compile(r"[;；]")


def _split(text: object) -> list[str]:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    return [t.strip() for t in _SEP.split(str(text)) if t.strip()]


def _closest(token: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(token, choices, n=3, cutoff=0.3)
    return f"; closest: {', '.join(near)}" if near else ""


def load_catalogue(path: str | os.PathLike, *,
                   kinds: tuple[str, ...] = tuple(OUTLET_KINDS)) -> pd.DataFrame:
    """Read and validate an item catalogue (CSV/XLSX).

    Returns a frame with ``id, name, name_en, category, delegable_to`` (a tuple of outlet
    kinds), ``weight`` (default 1), ``in_person`` and ``runner_can_carry`` (bools, default
    True / False). Every problem is reported at once, naming file, row and column.
    """
    file = str(path)
    df = read_table(path)
    out, problems = validate_table(df, file, ITEM_COLUMNS, id_column="id")
    if "name" in out:
        names = out["name"].astype(str)
        for i in np.flatnonzero(names.duplicated(keep="first").to_numpy()).tolist():
            first = int(np.flatnonzero((names == names.iloc[i]).to_numpy())[0]) + 1
            problems.append(InputProblem(file, i + 1, "name",
                                         f"duplicate name {names.iloc[i]!r} (first seen in row "
                                         f"{first})"))
    deleg: list[tuple[str, ...]] = []
    raw = out["delegable_to"] if "delegable_to" in out else pd.Series([None] * len(out))
    for i, text in enumerate(raw, start=1):
        ks = tuple(k for k in re.split(r"[;；,，]", str(text or "")) if k.strip())
        ks = tuple(k.strip() for k in ks)
        for k in ks:
            if k not in kinds:
                problems.append(InputProblem(file, i, "delegable_to",
                                             f"unknown outlet kind {k!r}; expected one of "
                                             f"{', '.join(kinds)}"))
        deleg.append(ks)
    if problems:
        raise InputError(problems)
    out["delegable_to"] = pd.Series(deleg, index=out.index, dtype=object)
    for col, default in (("name_en", ""), ("category", "")):
        out[col] = out[col].fillna(default).astype(str) if col in out else default
    out["weight"] = out["weight"].fillna(1.0).astype(float) if "weight" in out else 1.0
    for col, flag in (("in_person", True), ("runner_can_carry", False)):
        out[col] = out[col].fillna(flag).astype(bool) if col in out else flag
    out["name"] = out["name"].astype(str)
    cols = ["id", "name", "name_en", "category", "delegable_to", "weight", "in_person",
            "runner_can_carry"]
    return out[cols].reset_index(drop=True)


class _Lookup:
    """Item id or name → column index, with the closest names for a message."""

    def __init__(self, catalogue: pd.DataFrame) -> None:
        self.index = {str(v): j for j, v in enumerate(catalogue["id"])}
        self.index.update({str(v): j for j, v in enumerate(catalogue["name"])})
        self.names = [str(v) for v in catalogue["name"]] + [str(v) for v in catalogue["id"]]

    def get(self, token: str, file: str, row: int, column: str,
            problems: list[InputProblem]) -> int | None:
        j = self.index.get(token)
        if j is None:
            problems.append(InputProblem(file, row, column, f"unknown item {token!r}"
                                         f"{_closest(token, self.names)}"))
        return j


def parse_services(services: pd.Series, catalogue: pd.DataFrame, *,
                   file: str = "outlets", column: str = "services") -> np.ndarray:
    """Outlets × items boolean matrix from the ``services`` column (ids or names, ``;``/``；``).

    ``*`` alone means every item; ``*`` mixed with names is an error.
    """
    look = _Lookup(catalogue)
    m = np.zeros((len(services), len(catalogue)), dtype=bool)
    problems: list[InputProblem] = []
    for i, text in enumerate(services.tolist()):
        tokens = _split(text)
        if "*" in tokens:
            if len(tokens) > 1:
                problems.append(InputProblem(file, i + 1, column,
                                             "'*' (every item) cannot be mixed with item names"))
            else:
                m[i, :] = True
            continue
        for t in tokens:
            j = look.get(t, file, i + 1, column, problems)
            if j is not None:
                m[i, j] = True
    if problems:
        raise InputError(problems)
    return m


def read_outlet_items(path: str | os.PathLike, outlet_ids: pd.Series,
                      catalogue: pd.DataFrame) -> np.ndarray:
    """Outlets × items boolean matrix from a long table ``outlet_id,item_id``.

    ``item_id`` may be an item's id or name, or ``*`` for every item.
    """
    file = str(path)
    df = read_table(path)
    cols = [Column("outlet_id"), Column("item_id")]
    out, problems = validate_table(df, file, cols, id_column=None)
    if problems:
        raise InputError(problems)
    opos = {str(v): i for i, v in enumerate(outlet_ids)}
    look = _Lookup(catalogue)
    m = np.zeros((len(outlet_ids), len(catalogue)), dtype=bool)
    oids = list(opos)
    for r, (o, it) in enumerate(zip(out["outlet_id"], out["item_id"], strict=True), start=1):
        i = opos.get(str(o))
        if i is None:
            problems.append(InputProblem(file, r, "outlet_id", f"unknown outlet {o!r}"
                                         f"{_closest(str(o), oids)}"))
            continue
        if it == "*":
            m[i, :] = True
            continue
        j = look.get(str(it), file, r, "item_id", problems)
        if j is not None:
            m[i, j] = True
    if problems:
        raise InputError(problems)
    return m


@dataclass(frozen=True, eq=False)
class ItemTable:
    """A catalogue and which outlet handles which item.

    Attributes
    ----------
    catalogue
        One row per item (see :func:`load_catalogue`).
    handles
        Boolean ``(n_outlets, n_items)``: outlet ``o`` handles item ``j``.
    """

    catalogue: pd.DataFrame
    handles: np.ndarray

    def __post_init__(self) -> None:
        if self.handles.shape[1] != len(self.catalogue):
            raise ValueError("`handles` must have one column per catalogue item.")

    @property
    def n_items(self) -> int:
        """Number of items in the catalogue."""
        return len(self.catalogue)

    def outlet_sets(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct outlet sets: ``(masks (n_outlets, n_sets), set index of each item)``."""
        h = np.ascontiguousarray(self.handles.T)
        if h.shape[0] == 0:
            return np.zeros((self.handles.shape[0], 0), bool), np.zeros(0, np.int64)
        keys = np.packbits(h, axis=1)
        _, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        return self.handles[:, first], inv.ravel().astype(np.int64)


def items_of_region(region: Region) -> ItemTable | None:
    """The region's item table, or ``None`` when ``region.toml`` names no ``items`` file."""
    path = region.files.get("items")
    if path is None:
        return None
    catalogue = load_catalogue(path)
    long = region.files.get("outlet_items")
    if long is not None:
        handles = read_outlet_items(long, region.outlets["id"], catalogue)
    else:
        handles = parse_services(region.outlets["services"], catalogue,
                                 file=str(region.files["outlets"]))
    return ItemTable(catalogue, handles)


# ------------------------------------------------------------------------------- coverage
@dataclass(frozen=True)
class ItemCoverage:
    """Coverage of every item, per area and for the region, and the request-weighted figures.

    Attributes
    ----------
    table
        ``items.csv``: one row per item and area (:data:`ITEM_TABLE_COLUMNS`).
    items
        One row per item: region population, covered population, rate, median and p90.
    matrix
        Areas × items coverage rates (``area_id`` then one column per item id).
    weighted
        Per area: population and the request-weighted coverage rate (``weighted_rate``).
    point_weighted
        Per demand point, the share of its expected requests that are covered.
    set_covered
        ``(n_points, n_sets)`` covered masks of the distinct outlet sets.
    item_set
        The outlet set of each item (index into ``set_covered``'s columns).
    total
        Region figures: ``weighted_rate``, ``n_items``, ``n_sets``, ``searches``.
    """

    table: pd.DataFrame
    items: pd.DataFrame
    matrix: pd.DataFrame
    weighted: pd.DataFrame
    point_weighted: np.ndarray
    set_covered: np.ndarray
    item_set: np.ndarray
    total: dict

    def worst(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` items with the lowest region coverage rate (weight breaks ties)."""
        return self.items.sort_values(["coverage_rate", "weight"],
                                      ascending=[True, False], kind="stable").head(n)

    def summary(self) -> str:
        """The region's request-weighted figure in one line."""
        t = self.total
        return (f"{t['weighted_rate']:.1%} of residents' expected requests fall inside the "
                f"circle of an outlet that handles the item ({t['n_items']} items, "
                f"{t['n_sets']} distinct outlet sets, {t['searches']} searches)")


@dataclass(frozen=True)
class ItemPoints:
    """The per-point part of item coverage: minutes and covered flags per distinct outlet set.

    Attributes
    ----------
    covered
        ``(n_points, n_sets)`` covered masks.
    minutes
        ``(n_points, n_sets)`` minutes to the nearest outlet of the set (NaN: none).
    searches
        Nearest-outlet searches made.
    """

    covered: np.ndarray
    minutes: np.ndarray
    searches: int


def item_points(network: RoadNetwork, settings: RegionSettings, outlets: gpd.GeoDataFrame,
                demand: gpd.GeoDataFrame, areas: pd.DataFrame, masks: np.ndarray, *,
                live: np.ndarray | None = None, base: CoverageResult | None = None,
                workers: int = 2) -> ItemPoints:
    """Minutes and covered flags of every demand point for each outlet set (``masks`` columns).

    ``masks`` is ``(n_outlets, n_sets)`` over ``outlets`` (a partition passes the rows of its
    own outlets). ``live`` marks the sets somebody handles in the whole region (default: the
    columns with a handler here); the other sets stay uncovered with NaN minutes. ``base``
    (the all-outlet coverage of the same points) is reused for a set every outlet handles.
    """
    n_sets = masks.shape[1]
    alive = np.asarray(masks.any(axis=0) if live is None else live, dtype=bool)
    set_cov = np.zeros((len(demand), n_sets), dtype=bool)
    set_min = np.full((len(demand), n_sets), np.nan)
    todo = []
    for s in range(n_sets):
        m = masks[:, s]
        if not alive[s]:  # an item nobody handles: nobody is covered, no time
            continue
        if base is not None and m.all():
            set_cov[:, s] = base.points["covered"].to_numpy(dtype=bool)
            set_min[:, s] = base.points["minutes"].to_numpy(dtype=float)
        else:
            todo.append(s)
    searches = _subset_minutes(network, settings, outlets, demand, areas, masks, todo,
                               set_cov, set_min, workers)
    return ItemPoints(covered=set_cov, minutes=set_min, searches=searches)


def item_coverage(network: RoadNetwork, settings: RegionSettings, outlets: gpd.GeoDataFrame,
                  demand: gpd.GeoDataFrame, areas: pd.DataFrame, items: ItemTable, *,
                  base: CoverageResult | None = None, workers: int = 2) -> ItemCoverage:
    """Coverage of every catalogue item: one search per distinct outlet set.

    ``base`` (the all-outlet coverage, when already computed) is reused for items every
    outlet handles. ``workers`` threads run the searches (the compiled search releases the
    GIL). The per-point part is :func:`item_points`, the tables :func:`item_tables` (which a
    partitioned run calls on the pieces' concatenated points).
    """
    masks, _ = items.outlet_sets()
    return item_tables(demand, areas, items,
                       item_points(network, settings, outlets, demand, areas, masks, base=base,
                                   workers=workers))


def item_tables(demand: pd.DataFrame, areas: pd.DataFrame, items: ItemTable,
                points: ItemPoints) -> ItemCoverage:
    """The per item/area tables and the request-weighted figures from the per-point part."""
    _, item_set = items.outlet_sets()
    set_cov, set_min, searches = points.covered, points.minutes, points.searches
    n_sets = set_cov.shape[1]
    pop = demand["population"].to_numpy(dtype=float)
    cat = items.catalogue
    area_ids = areas["id"].to_numpy()
    codes = pd.Index(area_ids).get_indexer(demand["area_id"])
    k = len(area_ids)
    # per set and area
    a_pop = np.bincount(codes, weights=pop, minlength=k)
    a_cov = np.stack([np.bincount(codes, weights=pop * set_cov[:, s], minlength=k)
                      for s in range(n_sets)], axis=1) if n_sets else np.zeros((k, 0))
    a_q = np.stack([grouped_weighted_quantile(codes, k, set_min[:, s], pop, (0.5, 0.9))
                    for s in range(n_sets)], axis=2) if n_sets else np.zeros((2, k, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        a_rate = np.round(a_cov / a_pop[:, None], 4)
    n_items = len(cat)
    table = pd.DataFrame({
        "item_id": np.repeat(cat["id"].to_numpy(), k),
        "item_name": np.repeat(cat["name"].to_numpy(), k),
        "area_id": np.tile(area_ids, n_items),
        "population": np.tile(a_pop, n_items),
        "covered_population": a_cov[:, item_set].T.ravel(),
        "coverage_rate": a_rate[:, item_set].T.ravel(),
        "median_minutes": np.round(a_q[0][:, item_set].T.ravel(), 2),
        "p90_minutes": np.round(a_q[1][:, item_set].T.ravel(), 2),
    })
    total_pop = float(pop.sum())
    s_cov = pop @ set_cov if n_sets else np.zeros(0)
    s_q = np.array([weighted_quantile(set_min[:, s], pop, (0.5, 0.9)) for s in range(n_sets)])
    s_q = s_q.reshape(n_sets, 2)
    per_item = pd.DataFrame({
        "item_id": cat["id"], "item_name": cat["name"], "category": cat["category"],
        "weight": cat["weight"], "outlets": items.handles.sum(axis=0),
        "population": total_pop, "covered_population": s_cov[item_set],
        "coverage_rate": np.round(s_cov[item_set] / total_pop, 4) if total_pop else np.nan,
        "median_minutes": np.round(s_q[item_set, 0], 2),
        "p90_minutes": np.round(s_q[item_set, 1], 2)})
    matrix = pd.DataFrame(a_rate[:, item_set], columns=cat["id"].tolist())
    matrix.insert(0, "area_id", area_ids)
    set_w = np.bincount(item_set, weights=cat["weight"].to_numpy(float), minlength=n_sets)
    w_total = float(set_w.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        point_w = (set_cov @ set_w) / w_total if w_total > 0 else np.full(len(pop), np.nan)
        a_w = np.bincount(codes, weights=pop * np.nan_to_num(point_w), minlength=k)
        weighted = pd.DataFrame({"area_id": area_ids, "population": a_pop,
                                 "weighted_rate": np.round(a_w / a_pop, 4)})
        rate = float(pop @ np.nan_to_num(point_w) / total_pop) if total_pop and w_total else \
            float("nan")
    total = {"weighted_rate": rate, "n_items": n_items, "n_sets": n_sets, "searches": searches}
    log.info("item coverage: %d items, %d distinct outlet sets, %d searches", n_items, n_sets,
             searches)
    return ItemCoverage(table=table, items=per_item, matrix=matrix, weighted=weighted,
                        point_weighted=point_w, set_covered=set_cov, item_set=item_set,
                        total=total)


def _subset_minutes(network: RoadNetwork, settings: RegionSettings, outlets: gpd.GeoDataFrame,
                    demand: gpd.GeoDataFrame, areas: pd.DataFrame, masks: np.ndarray,
                    todo: list[int], set_cov: np.ndarray, set_min: np.ndarray,
                    workers: int) -> int:
    """Minutes and covered flags for the outlet subsets ``masks[:, todo]``, in place.

    The rule of :func:`gis.coverage.compute_coverage` (access leg + network time from the
    outlet's own egress offset; minutes rounded to 0.01; points beyond ``max_snap_m``
    unreachable), with outlets and demand snapped once for all subsets: one search per subset
    and mode. ``tests/test_items.py`` and the benchmark check it equals ``compute_coverage``.
    """
    if not todo:
        return 0
    pos = pd.Index(areas["id"]).get_indexer(demand["area_id"])
    urban = areas["urban"].to_numpy(dtype=bool)[pos]
    olon, olat = outlets["lon"].to_numpy(), outlets["lat"].to_numpy()
    dlon, dlat = demand["lon"].to_numpy(), demand["lat"].to_numpy()
    jobs = []
    snaps: dict[str, tuple] = {}
    for kind, circle in settings.circles.items():
        sel = np.flatnonzero(urban if kind == "urban" else ~urban)
        if len(sel) == 0:
            continue
        if circle.mode not in snaps:  # sources on the main network and islands (gis.islands)
            snaps[circle.mode] = outlet_sources(network, olon, olat, mode=circle.mode,
                                                max_snap_m=settings.max_snap_m)
        dsnaps = [network.snap(dlon[sel], dlat[sel], mode=circle.mode, islands=isl)
                  for isl in (False, True)]
        jobs.append((circle, sel, dsnaps, None))
    modes = sorted({c.mode for c, *_ in jobs})
    for mode in modes:  # build the reversed adjacency once, before the threads share it
        network.adjacency_T(mode)

    def one(task: tuple[int, str]) -> tuple[int, str, np.ndarray]:
        s, mode = task
        nodes, offs, owner = snaps[mode]
        m = masks[owner, s]
        node_s, _ = network.times_to_nearest(nodes[m], mode=mode, offsets_s=offs[m])
        return s, mode, node_s

    tasks = [(s, mode) for s in todo for mode in modes]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(tasks)))) as pool:
        results = list(pool.map(one, tasks))
    for s, mode, node_s in results:
        for circle, sel, dsnaps, _ in jobs:
            if circle.mode != mode:
                continue
            t = np.full(len(sel), np.inf)
            for ds in dsnaps:  # the faster of the main-network and the nearest-part snap
                ti = ds.access_s + node_s[ds.node]
                ti[~snapped(ds.distance_m, settings.max_snap_m)] = np.inf
                t = np.minimum(t, ti)
            set_min[sel, s] = shown_minutes(np.where(np.isfinite(t), t, np.nan))
            set_cov[sel, s] = within_circle(t, circle.minutes)  # the one rule (gis.rules)
    return len(tasks)


def item_coverage_of_region(region: Region, base: CoverageResult | None = None,
                            items: ItemTable | None = None) -> ItemCoverage | None:
    """Item coverage of a loaded region (``None`` when it has no catalogue)."""
    items = items_of_region(region) if items is None else items
    if items is None:
        return None
    return item_coverage(region.network, region.settings, region.outlets, region.demand,
                         region.areas, items, base=base)


def uncovered_by_set(result: ItemCoverage) -> list[np.ndarray]:
    """Per distinct outlet set, the indices (into the demand points) of the points outside it.

    Compact per-point flags for a map: item ``j``'s uncovered points are
    ``uncovered_by_set(result)[result.item_set[j]]`` (sorted ``int32`` indices).
    """
    cov = result.set_covered
    return [np.flatnonzero(~cov[:, s]).astype(np.int32) for s in range(cov.shape[1])]
