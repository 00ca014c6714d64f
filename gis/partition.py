"""A region in partitions: areas grouped by a field, each with its clipped network and outlets.

A province is too big for one process; its counties are independent once borders are handled.
:func:`plan_pieces` groups the areas by a field (``county``, or ``id`` for one partition per
area) and gives each partition a :class:`Piece`: the road network clipped to the partition's
demand points plus a border buffer, the partition's demand points, and every outlet inside the
buffer (residents may cross a county line to the nearest outlet). Each piece runs the existing
single-region coverage (:func:`gis.coverage.compute_coverage`) on its own arrays; the pieces'
point tables are concatenated and the area table and totals are made by
:func:`gis.coverage.coverage_from_points`, the aggregation the whole run uses.

The buffer rule (``docs/scale.md``)
-----------------------------------
Let ``L`` be the largest circle's search limit (minutes × 60 + the rounding slack of
:mod:`gis.rules`), ``v(m)`` the fastest speed of mode ``m`` *measured on the network's own
edges* (straight-line metres per edge second, so no edge is faster), and ``s`` the network's
``max_snap_m``. A partition keeps every node within ``R = max over circles (L × v(mode)) + s``
metres of one of its demand points, every outlet within ``R + L × walking speed`` of one, and
the whole-network snap nodes of those outlets. A path of network time ``τ`` from a demand
point's snap node never leaves the disc of radius ``τ × v`` around it, so every journey of at
most ``cert(m) = min((R - s) / v(m), L)`` seconds lies inside the piece. The clipped network is a
subgraph with the whole network's part labels and the whole network's outlet snaps, so a time
found in a piece is never *shorter* than the true time; a point whose piece time is at most
``cert`` is therefore exact (time, outlet, snap). Every other point (outside its circle, or
unreachable) is re-run in a spill piece bounded by its own journey, which the task plans
itself after its run (:mod:`gis.partition_spill`), so the partitioned tables equal the whole
run's.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .coverage import CoverageResult, compute_coverage, coverage_from_points
from .errors import InputError, InputProblem
from .islands import outlet_sources
from .items import ItemCoverage, ItemPoints, ItemTable, item_points, item_tables
from .network import RoadNetwork
from .partition_cache import (
    _near_nodes,
    _within,
    cut,
    network_arrays,
    open_cache,
    subnetwork,
    write_cache,
    write_network_cache,
)
from .region import Region, RegionSettings
from .rules import ROUND_SLACK_S, point_circles, point_is_urban, search_limit_s

__all__ = ["Piece", "PieceSpec", "PieceResult", "BufferRule", "buffer_rule", "buffer_rule_from",
           "fastest_ms",
           "subnetwork", "cut", "network_arrays", "write_cache", "write_network_cache",
           "open_cache", "build_piece", "plan_pieces", "check_partition_field", "run_piece",
           "run_piece_file", "write_specs", "merge", "partitioned_run", "partitioned_coverage",
           "serial_map", "task_peak_mb"]

log = logging.getLogger(__name__)

#: ``map(function, items) -> iterable of results`` (in any order): serial or a Dask client.
Mapper = Callable[[Callable[[str], Any], list[str]], Iterable[Any]]


# ------------------------------------------------------------------------ the buffer rule
def fastest_ms(network: RoadNetwork, mode: str) -> float:
    """The mode's fastest speed in m/s measured on its edges (straight metres / seconds)."""
    u, v, sec, _ = network.edges(mode)
    if len(u) == 0:
        return 0.0
    straight = np.hypot(network.x[u] - network.x[v], network.y[u] - network.y[v])
    return float(np.max(straight / np.maximum(sec, 1e-3)))


@dataclass(frozen=True)
class BufferRule:
    """The border buffer: ``radius_m`` of network, ``outlet_m`` of outlets, certified seconds."""

    radius_m: float
    outlet_m: float
    cert_s: dict[str, float]


def buffer_rule(network: RoadNetwork, settings: RegionSettings,
                limit_s: float | None = None) -> BufferRule:
    """The buffer that keeps every journey of at most ``limit_s`` (default: the largest circle).

    See the module docstring for the rule and why it is exact.
    """
    circles = settings.circles.values()
    limit = max(search_limit_s(c.minutes) for c in circles) if limit_s is None else limit_s
    return buffer_rule_from({c.mode: fastest_ms(network, c.mode) for c in circles}, settings,
                            limit)


def buffer_rule_from(speed: dict[str, float], settings: RegionSettings, limit: float
                     ) -> BufferRule:
    """:func:`buffer_rule` from the modes' fastest speeds (m/s) and the seconds ``limit``."""
    reach = max(limit * v for v in speed.values())
    radius = reach + settings.max_snap_m
    cert = {m: min(reach / v if v > 0 else np.inf, limit) for m, v in speed.items()}
    return BufferRule(radius_m=float(radius),
                      outlet_m=float(radius + limit * settings.speeds.walk_ms), cert_s=cert)


# ------------------------------------------------------------------------ the pieces
@dataclass(frozen=True, eq=False)
class Piece:
    """One partition's inputs: its clipped network, demand rows, outlets and areas."""

    key: str
    network: RoadNetwork
    settings: RegionSettings
    outlets: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    areas: pd.DataFrame
    rows: np.ndarray
    cert_s: dict[str, float]
    whole: bool = False
    item_masks: np.ndarray | None = None
    item_live: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class PieceSpec:
    """What a worker needs to cut its own piece from the cached network (no network in it).

    ``xy`` are the demand points' metres, ``radius_m`` the node buffer (``inf``: the whole
    network), ``force`` the outlets' whole-network snap nodes to keep. ``nodes``, when given,
    are the node ids to keep instead of the buffer (a spill pass,
    :mod:`gis.partition_spill`); ``exact`` marks a piece that holds every journey of its
    points, so all of them are certified.
    """

    key: str
    settings: RegionSettings
    outlets: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    areas: pd.DataFrame
    rows: np.ndarray
    cert_s: dict[str, float]
    xy: np.ndarray
    radius_m: float
    force: np.ndarray
    item_masks: np.ndarray | None = None
    item_live: np.ndarray | None = None
    nodes: np.ndarray | None = None
    exact: bool = False
    grow: int = 0  # the buffer rule at 2 ** grow times the largest circle's seconds
    cap_nodes: int = 0  # an exact spill piece's nodes at most (0: from this piece's own)


@dataclass(frozen=True)
class PieceResult:
    """What travels back from a piece: its point table (certified rows) and the rest."""

    key: str
    points: pd.DataFrame
    rows: np.ndarray
    spill_rows: np.ndarray
    spill_s: float
    nodes: int
    item_points: ItemPoints | None = None
    peak_mb: float = float("nan")
    spill_t: np.ndarray | None = None  # per spilled point: its largest piece seconds (inf: none)
    spill_specs: tuple[str, ...] = ()  # the spill specs the task wrote for its spilled points


def build_piece(spec: PieceSpec, arrs: Mapping[str, Any], *,
                modes: Collection[str] | None = None) -> Piece:
    """Cut the spec's network from ``arrs`` (in memory or a memory-mapped cache).

    ``modes``: the network's modes to cut (default: all; :func:`cut`).
    """
    near = _near_nodes(arrs, spec.xy, spec.radius_m) if spec.nodes is None else spec.nodes
    idx = np.union1d(near, spec.force).astype(np.int64)
    del near
    return Piece(key=spec.key, network=cut(arrs, idx, modes=modes), settings=spec.settings,
                 outlets=spec.outlets, demand=spec.demand, areas=spec.areas, rows=spec.rows,
                 cert_s=spec.cert_s, whole=spec.exact or len(idx) == arrs["meta"]["n"],
                 item_masks=spec.item_masks, item_live=spec.item_live)


class _Clipper:
    """The whole network's arrays a clip needs, computed once per run."""

    def __init__(self, region_net: RoadNetwork, settings: RegionSettings,
                 outlets: gpd.GeoDataFrame, demand: gpd.GeoDataFrame,
                 items: ItemTable | None = None) -> None:
        self.net, self.settings, self.outlets, self.demand = region_net, settings, outlets, demand
        self.dx, self.dy = region_net.project(demand["lon"].to_numpy(), demand["lat"].to_numpy())
        self.ox, self.oy = region_net.project(outlets["lon"].to_numpy(),
                                              outlets["lat"].to_numpy())
        self.item_masks: np.ndarray | None = None
        self.item_live: np.ndarray | None = None
        if items is not None:
            self.item_masks, _ = items.outlet_sets()
            self.item_live = np.asarray(self.item_masks.any(axis=0), dtype=bool)
        self.sources: list[tuple[np.ndarray, np.ndarray]] = []  # (node, owner) per mode
        for mode in sorted({c.mode for c in settings.circles.values()}):
            if len(outlets):
                nodes, _, owner = outlet_sources(region_net, outlets["lon"].to_numpy(),
                                                 outlets["lat"].to_numpy(), mode=mode,
                                                 max_snap_m=settings.max_snap_m)
                self.sources.append((nodes, owner))
        self._arrays: Mapping[str, Any] | None = None

    @property
    def arrays(self) -> Mapping[str, Any]:
        """The whole network as :func:`network_arrays` (built on first use, or the cache)."""
        if self._arrays is None:
            self._arrays = network_arrays(self.net)
        return self._arrays

    def drop_arrays(self) -> None:
        """Forget the in-memory arrays (after :func:`write_cache`): the driver's peak."""
        self._arrays = None

    def use_cache(self, folder: Path) -> None:
        """Read the arrays from the memory-mapped cache in ``folder`` from now on."""
        self._arrays = open_cache(folder)

    def spec(self, key: str, rows: np.ndarray, areas: pd.DataFrame, rule: BufferRule | None,
             *, nodes: np.ndarray | None = None, o_in: np.ndarray | None = None
             ) -> PieceSpec:
        """The spec of ``rows`` (demand positions); ``rule=None``: the whole network.

        ``nodes`` and ``o_in`` (node ids, outlet mask) replace the buffer: an exact spill
        piece of :mod:`gis.partition_spill`.
        """
        pts = np.column_stack([self.dx[rows], self.dy[rows]])
        if nodes is not None and o_in is not None:
            cert = {c.mode: np.inf for c in self.settings.circles.values()}
            radius = np.inf
        elif rule is None:
            o_in = np.ones(len(self.outlets), dtype=bool)
            cert = {c.mode: np.inf for c in self.settings.circles.values()}
            radius = np.inf
        else:
            o_in = _within(pts, self.ox, self.oy, rule.outlet_m)
            cert, radius = rule.cert_s, rule.radius_m
        force = [src[o_in[owner]] for src, owner in self.sources]
        dem = self.demand.iloc[rows].reset_index(drop=True)
        used = set(dem["area_id"].tolist())
        return PieceSpec(key=key, settings=self.settings,
                         outlets=self.outlets[o_in].reset_index(drop=True), demand=dem,
                         areas=pd.DataFrame(areas.loc[areas["id"].isin(used),
                                                      ["id", "name", "urban"]]
                                            ).reset_index(drop=True),
                         rows=np.asarray(rows, dtype=np.int64), cert_s=cert, xy=pts,
                         radius_m=float(radius),
                         force=np.unique(np.concatenate(force)) if force else
                         np.zeros(0, np.int64),
                         item_masks=None if self.item_masks is None else self.item_masks[o_in],
                         item_live=self.item_live,
                         nodes=None if nodes is None else np.asarray(nodes, dtype=np.int64),
                         exact=nodes is not None)

    def piece(self, key: str, rows: np.ndarray, areas: pd.DataFrame, rule: BufferRule | None
              ) -> Piece:
        """The piece of ``rows`` built in this process (tests, the benchmark)."""
        return build_piece(self.spec(key, rows, areas, rule), self.arrays)


def check_partition_field(region: Region, by: str) -> None:
    """Raise :class:`gis.errors.InputError` naming ``by`` when the areas have no such column."""
    areas = region.areas
    if by not in areas.columns:
        cols = ", ".join(c for c in areas.columns if c != "geometry")
        raise InputError(InputProblem(str(region.files.get("areas", "areas")), None, by,
                                      f"no column {by!r} to partition by; the areas have: "
                                      f"{cols}"))


def plan_pieces(region: Region, by: str, items: ItemTable | None = None
                ) -> tuple[_Clipper, list[tuple[str, np.ndarray]]]:
    """The partitions of ``region`` by the areas' field ``by``: ``(clipper, [(key, rows)])``.

    Raises
    ------
    gis.errors.InputError
        The areas have no column ``by``.
    """
    check_partition_field(region, by)
    areas = region.areas
    key_of = pd.Series(areas[by].astype(str).to_numpy(), index=areas["id"].to_numpy())
    keys = key_of.reindex(region.demand["area_id"].to_numpy()).to_numpy(dtype=object)
    clip = _Clipper(region.network, region.settings, region.outlets, region.demand, items)
    groups = pd.Series(np.arange(len(keys))).groupby(pd.Series(keys), sort=True)
    return clip, [(str(k), g.to_numpy()) for k, g in groups]


# ------------------------------------------------------------------------ one piece
def _peak_reset() -> None:
    """Reset this process's memory high-water mark (VmHWM) to its current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not Linux, or not allowed
        pass


def task_peak_mb() -> float:
    """The memory high-water mark of this process (VmHWM) in MB, NaN where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_piece(piece: Piece) -> PieceResult:
    """The existing single-region coverage (and item points) on one piece; spills apart."""
    res = compute_coverage(piece.network, piece.settings, piece.outlets, piece.demand,
                           piece.areas)
    pts = pd.DataFrame(res.points.drop(columns="geometry"))
    ip = None
    if piece.item_masks is not None:
        ip = item_points(piece.network, piece.settings, piece.outlets, piece.demand,
                         piece.areas, piece.item_masks, live=piece.item_live, base=res,
                         workers=1)
    if piece.whole:
        ok = np.ones(len(pts), dtype=bool)
        spill_s = 0.0
    else:
        urban = point_is_urban(piece.demand, piece.areas)
        _, modes = point_circles(urban, piece.settings.circles)
        cert = np.array([piece.cert_s[m] for m in modes], dtype=float)
        # the piece's seconds are at most minutes × 60 + the rounding slack
        upper = pts["minutes"].to_numpy(dtype=float)[:, None] * 60.0 + ROUND_SLACK_S
        reach = pts["reachable"].to_numpy(dtype=bool)[:, None]
        if ip is not None and piece.item_live is not None:
            live = piece.item_live
            upper = np.column_stack([upper, ip.minutes[:, live] * 60.0 + ROUND_SLACK_S])
            reach = np.column_stack([np.broadcast_to(reach, (len(pts), 1)),
                                     np.isfinite(ip.minutes[:, live])])
        ok = (reach & (upper <= cert[:, None])).all(axis=1)
        # a point that found no outlet in its piece (NaN minutes) has no bound: inf
        bad = np.nan_to_num(upper[~ok], nan=np.inf)
        spill_t = bad.max(axis=1) if bad.size else np.zeros(0)
        spill_s = float(spill_t.max()) if bad.size else 0.0
    spill = ~ok
    if piece.whole:
        spill_t = np.zeros(0)
    if ip is not None:
        ip = ItemPoints(covered=ip.covered[ok], minutes=ip.minutes[ok], searches=ip.searches)
    return PieceResult(key=piece.key, points=pts[ok].reset_index(drop=True),
                       rows=piece.rows[ok], spill_rows=piece.rows[spill], spill_s=spill_s,
                       nodes=piece.network.n_nodes, item_points=ip, spill_t=spill_t)


def run_piece_file(path: str) -> PieceResult:
    """What a worker runs: load a spec saved by :func:`write_specs`, cut its piece, run it.

    The network is cut from the run's memory-mapped cache (``../network`` beside the spec's
    folder), so the worker holds only its own piece. When the cache holds the run's spill
    context, the task then plans its spilled points' pieces itself
    (:func:`gis.partition_spill.plan_spills`, into ``../spill``) and returns their paths.
    """
    from .partition_spill import plan_spills, read_spill_context, surely_reachable

    _peak_reset()
    with open(path, "rb") as fh:
        spec = pickle.load(fh)
    cache = Path(path).parent.parent / "network"
    arrs = open_cache(cache)
    # coverage and item minutes search only the circles' modes (gis.coverage, gis.items)
    piece = build_piece(spec, arrs, modes={c.mode for c in spec.settings.circles.values()})
    res = run_piece(piece)
    ctx = read_spill_context(cache) if len(res.spill_rows) else None
    if ctx is not None:
        local = pd.Index(spec.rows).get_indexer(res.spill_rows)
        t = res.spill_t if res.spill_t is not None else np.full(len(local), np.inf)
        sure = surely_reachable(piece, local[~np.isfinite(t)], len(ctx.outlets) > 0)
        cap = spec.cap_nodes or int(ctx.cap * piece.network.n_nodes)
        del piece
        paths = plan_spills(spec, res, sure, arrs, ctx, cache.parent / "spill",
                            Path(path).stem, cap)
        res = replace(res, spill_specs=tuple(paths))
    return replace(res, peak_mb=task_peak_mb())


def write_specs(clip: _Clipper, parts: list[tuple[str, np.ndarray]], areas: pd.DataFrame,
                rule: BufferRule | None, folder: Path) -> Iterator[str]:
    """Save each partition's spec (small: no network in it); yield the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (key, rows) in enumerate(parts):
        path = folder / f"piece-{i:05d}.pkl"
        with open(path, "wb") as fh:
            pickle.dump(clip.spec(key, rows, areas, rule), fh, protocol=5)
        yield str(path)


def serial_map(fn: Callable[[str], Any], paths: list[str]) -> Iterable[Any]:
    """Run the pieces one after another in this process (no Dask)."""
    return (fn(p) for p in paths)


# ------------------------------------------------------------------------ the whole run
def merge(results: Iterable[PieceResult], n: int, geometry: gpd.GeoSeries,
          areas: pd.DataFrame) -> tuple[CoverageResult, ItemPoints | None]:
    """Concatenate the pieces' certified point tables in demand order; aggregate once."""
    results = list(results)
    order = np.concatenate([r.rows for r in results]) if results else np.zeros(0, np.int64)
    if len(order) != n or len(np.unique(order)) != n:
        raise RuntimeError(f"partitioned run returned {len(order)} of {n} demand points")
    back = np.argsort(order, kind="stable")
    pts = pd.concat([r.points for r in results], ignore_index=True).iloc[back]
    # rebuilt from arrays, so every column's dtype is inferred as the whole run infers it
    points = gpd.GeoDataFrame({c: pts[c].to_numpy() for c in pts.columns},
                              geometry=geometry.values, crs=geometry.crs)
    ips = [r.item_points for r in results if r.item_points is not None]
    ip = None
    if ips:
        ip = ItemPoints(covered=np.concatenate([i.covered for i in ips])[back],
                        minutes=np.concatenate([i.minutes for i in ips])[back],
                        searches=sum(i.searches for i in ips))
    return coverage_from_points(points, areas), ip


def partitioned_run(region: Region, by: str, *, items: ItemTable | None = None,
                    mapper: Mapper = serial_map,
                    task: Callable[[str], PieceResult] = run_piece_file,
                    workdir: str | Path | None = None, spill_cap: float = 2.0
                    ) -> tuple[CoverageResult, ItemCoverage | None]:
    """Coverage (and item coverage) of ``region`` partition by partition; equal to the whole.

    The driver writes the whole network once as a memory-mapped cache and one small spec per
    partition under ``workdir`` (a temporary folder by default); ``mapper`` runs ``task``
    over the specs (serially here, on Dask with :func:`gis.partition_dask.dask_mapper`), each
    task cutting its own piece and planning its own spill pieces (an exact spill piece keeps
    at most ``spill_cap`` times its first-round piece's nodes, split by point groups above
    that: :mod:`gis.partition_spill`); the driver only gathers. Item tables come from :func:`gis.items.item_tables`, the
    aggregation the whole run uses, on the pieces' per-point part.
    """
    import tempfile

    clip, parts = plan_pieces(region, by, items)
    rule = buffer_rule(region.network, region.settings)
    log.info("%d partitions by %r; border buffer %.0f m (outlets %.0f m)", len(parts), by,
             rule.radius_m, rule.outlet_m)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        t0 = time.perf_counter()
        from .partition_spill import spill_passes, write_spill_context

        clip.use_cache(write_network_cache(clip.net, Path(tmp) / "network"))
        write_spill_context(clip, Path(tmp) / "network", spill_cap)
        paths = list(write_specs(clip, parts, region.areas, rule, Path(tmp) / "round1"))
        t1 = time.perf_counter()
        first = list(mapper(task, paths))
        t2 = time.perf_counter()
        results = first + spill_passes(first, mapper, task)
        t3 = time.perf_counter()
        log.info("timing: cache and specs %.1f s, round 1 %.1f s, spill passes %.1f s "
                 "(%d spilled points)", t1 - t0, t2 - t1, t3 - t2,
                 sum(len(r.spill_rows) for r in first))
    cov, ip = merge(results, len(region.demand), region.demand.geometry, region.areas)
    itc = None if items is None or ip is None else item_tables(region.demand, region.areas,
                                                               items, ip)
    return cov, itc


def partitioned_coverage(region: Region, by: str, *, mapper: Mapper = serial_map,
                         task: Callable[[str], PieceResult] = run_piece_file,
                         workdir: str | Path | None = None, spill_cap: float = 2.0
                         ) -> CoverageResult:
    """Coverage of ``region`` run partition by partition (:func:`partitioned_run`, no items)."""
    return partitioned_run(region, by, mapper=mapper, task=task, workdir=workdir,
                           spill_cap=spill_cap)[0]
