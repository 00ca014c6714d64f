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
unreachable) is re-run in one second pass with the buffer grown to its largest piece time (or
the whole network when some piece found no outlet at all), so the partitioned tables equal the
whole run's.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .coverage import CoverageResult, compute_coverage, coverage_from_points
from .errors import InputError, InputProblem
from .islands import outlet_sources
from .network import Edges, RoadNetwork
from .region import Region, RegionSettings
from .rules import ROUND_SLACK_S, point_circles, point_is_urban, search_limit_s

__all__ = ["Piece", "PieceResult", "BufferRule", "buffer_rule", "fastest_ms", "subnetwork",
           "plan_pieces", "run_piece", "run_piece_file", "merge", "partitioned_coverage",
           "serial_map"]

log = logging.getLogger(__name__)

#: ``map(function, items) -> iterable of results`` (in any order): serial or a Dask client.
Mapper = Callable[[Callable[[str], "PieceResult"], list[str]], Iterable["PieceResult"]]


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
    speed = {c.mode: fastest_ms(network, c.mode) for c in circles}
    reach = max(limit * v for v in speed.values())
    radius = reach + settings.max_snap_m
    cert = {m: min(reach / v if v > 0 else np.inf, limit) for m, v in speed.items()}
    return BufferRule(radius_m=float(radius),
                      outlet_m=float(radius + limit * settings.speeds.walk_ms), cert_s=cert)


# ------------------------------------------------------------------------ the clip
def subnetwork(network: RoadNetwork, keep: np.ndarray) -> RoadNetwork:
    """The network restricted to the nodes in ``keep`` (bool mask), from the CSR arrays.

    Edges with both ends kept survive; the part labels (main network, islands) are the whole
    network's, not recomputed, so snapping in the piece picks the same nodes as in the whole.
    """
    idx = np.flatnonzero(keep)
    new = np.full(network.n_nodes, -1, dtype=np.int64)
    new[idx] = np.arange(len(idx))
    edges: dict[str, Edges] = {}
    graphs, graphs_t, masks, labels = {}, {}, {}, {}
    for mode in network.modes:
        u, v, sec, length = network.edges(mode)
        ok = keep[u] & keep[v]
        e = (new[u[ok]], new[v[ok]], sec[ok], length[ok])
        edges[mode] = e
        g = network.graph(mode)[idx][:, idx].tocsr()  # already the shortest of parallels
        g.sort_indices()
        graphs[mode], graphs_t[mode] = g, g.T.tocsr()
        masks[mode] = network.nodes_in(mode)[idx]
        labels[mode] = network.parts(mode)[idx]
    return RoadNetwork(crs=network.crs, node_osmid=network.node_osmid[idx], x=network.x[idx],
                       y=network.y[idx], lon=network.lon[idx], lat=network.lat[idx],
                       speeds=network.speeds, _edges=edges, _graphs=graphs,
                       _graphs_T=graphs_t, _masks=masks, _labels=labels)


def _within(tree_xy: np.ndarray, qx: np.ndarray, qy: np.ndarray, r: float) -> np.ndarray:
    """Mask of the query points within ``r`` metres of one of ``tree_xy`` (bbox first)."""
    out = np.zeros(len(qx), dtype=bool)
    if len(tree_xy) == 0 or len(qx) == 0:
        return out
    lo, hi = tree_xy.min(axis=0) - r, tree_xy.max(axis=0) + r
    box = np.flatnonzero((qx >= lo[0]) & (qx <= hi[0]) & (qy >= lo[1]) & (qy <= hi[1]))
    if len(box):
        d, _ = cKDTree(tree_xy).query(np.column_stack([qx[box], qy[box]]),
                                      distance_upper_bound=r)
        out[box] = np.isfinite(d)
    return out


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


@dataclass(frozen=True)
class PieceResult:
    """What travels back from a piece: its point table (certified rows) and the rest."""

    key: str
    points: pd.DataFrame
    rows: np.ndarray
    spill_rows: np.ndarray
    spill_s: float
    nodes: int


class _Clipper:
    """The whole network's arrays a clip needs, computed once per run."""

    def __init__(self, region_net: RoadNetwork, settings: RegionSettings,
                 outlets: gpd.GeoDataFrame, demand: gpd.GeoDataFrame) -> None:
        self.net, self.settings, self.outlets, self.demand = region_net, settings, outlets, demand
        self.dx, self.dy = region_net.project(demand["lon"].to_numpy(), demand["lat"].to_numpy())
        self.ox, self.oy = region_net.project(outlets["lon"].to_numpy(),
                                              outlets["lat"].to_numpy())
        self.sources: list[tuple[np.ndarray, np.ndarray]] = []  # (node, owner) per mode
        for mode in sorted({c.mode for c in settings.circles.values()}):
            if len(outlets):
                nodes, _, owner = outlet_sources(region_net, outlets["lon"].to_numpy(),
                                                 outlets["lat"].to_numpy(), mode=mode,
                                                 max_snap_m=settings.max_snap_m)
                self.sources.append((nodes, owner))

    def piece(self, key: str, rows: np.ndarray, areas: pd.DataFrame, rule: BufferRule | None
              ) -> Piece:
        """The piece of ``rows`` (demand positions); ``rule=None``: the whole network."""
        net = self.net
        if rule is None:
            keep = np.ones(net.n_nodes, dtype=bool)
            o_in = np.ones(len(self.outlets), dtype=bool)
            cert = {c.mode: np.inf for c in self.settings.circles.values()}
        else:
            pts = np.column_stack([self.dx[rows], self.dy[rows]])
            keep = _within(pts, net.x, net.y, rule.radius_m)
            o_in = _within(pts, self.ox, self.oy, rule.outlet_m)
            for nodes, owner in self.sources:  # the outlets' whole-network snap nodes
                keep[nodes[o_in[owner]]] = True
            cert = rule.cert_s
        sub = subnetwork(net, keep)  # a fresh copy even when whole: no caches travel
        dem = self.demand.iloc[rows].reset_index(drop=True)
        used = set(dem["area_id"].tolist())
        return Piece(key=key, network=sub, settings=self.settings,
                     outlets=self.outlets[o_in].reset_index(drop=True), demand=dem,
                     areas=pd.DataFrame(areas.loc[areas["id"].isin(used),
                                                  ["id", "name", "urban"]]).reset_index(drop=True),
                     rows=np.asarray(rows, dtype=np.int64), cert_s=cert,
                     whole=bool(keep.all()))


def plan_pieces(region: Region, by: str) -> tuple[_Clipper, list[tuple[str, np.ndarray]]]:
    """The partitions of ``region`` by the areas' field ``by``: ``(clipper, [(key, rows)])``.

    Raises
    ------
    gis.errors.InputError
        The areas have no column ``by``.
    """
    areas = region.areas
    if by not in areas.columns:
        cols = ", ".join(c for c in areas.columns if c != "geometry")
        raise InputError(InputProblem(str(region.files.get("areas", "areas")), None, by,
                                      f"no column {by!r} to partition by; the areas have: "
                                      f"{cols}"))
    key_of = pd.Series(areas[by].astype(str).to_numpy(), index=areas["id"].to_numpy())
    keys = key_of.reindex(region.demand["area_id"].to_numpy()).to_numpy(dtype=object)
    clip = _Clipper(region.network, region.settings, region.outlets, region.demand)
    groups = pd.Series(np.arange(len(keys))).groupby(pd.Series(keys), sort=True)
    return clip, [(str(k), g.to_numpy()) for k, g in groups]


# ------------------------------------------------------------------------ one piece
def run_piece(piece: Piece) -> PieceResult:
    """The existing single-region coverage on one piece; certified rows and spills apart."""
    res = compute_coverage(piece.network, piece.settings, piece.outlets, piece.demand,
                           piece.areas)
    pts = pd.DataFrame(res.points.drop(columns="geometry"))
    if piece.whole:
        ok = np.ones(len(pts), dtype=bool)
    else:
        urban = point_is_urban(piece.demand, piece.areas)
        _, modes = point_circles(urban, piece.settings.circles)
        cert = np.array([piece.cert_s[m] for m in modes], dtype=float)
        # the piece's seconds are at most minutes × 60 + the rounding slack
        upper = pts["minutes"].to_numpy(dtype=float) * 60.0 + ROUND_SLACK_S
        ok = pts["reachable"].to_numpy(dtype=bool) & (upper <= cert)
    spill = ~ok
    upper_s = pts["minutes"].to_numpy(dtype=float)[spill] * 60.0 + ROUND_SLACK_S
    # a point that found no outlet in its piece (NaN minutes) needs the whole network
    spill_s = float(np.max(np.nan_to_num(upper_s, nan=np.inf))) if spill.any() else 0.0
    return PieceResult(key=piece.key, points=pts[ok].reset_index(drop=True),
                       rows=piece.rows[ok], spill_rows=piece.rows[spill], spill_s=spill_s,
                       nodes=piece.network.n_nodes)


def run_piece_file(path: str) -> PieceResult:
    """:func:`run_piece` on a piece saved by :func:`write_pieces` (what a worker runs)."""
    with open(path, "rb") as fh:
        piece = pickle.load(fh)
    return run_piece(piece)


def write_pieces(clip: _Clipper, parts: list[tuple[str, np.ndarray]], areas: pd.DataFrame,
                 rule: BufferRule | None, folder: Path) -> Iterator[str]:
    """Build and save each partition's piece (one in memory at a time); yield the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (key, rows) in enumerate(parts):
        piece = clip.piece(key, rows, areas, rule)
        path = folder / f"piece-{i:05d}.pkl"
        with open(path, "wb") as fh:
            pickle.dump(piece, fh, protocol=5)
        yield str(path)


def serial_map(fn: Callable[[str], PieceResult], paths: list[str]) -> Iterable[PieceResult]:
    """Run the pieces one after another in this process (no Dask)."""
    return (fn(p) for p in paths)


# ------------------------------------------------------------------------ the whole run
def merge(results: Iterable[PieceResult], n: int, geometry: gpd.GeoSeries,
          areas: pd.DataFrame) -> CoverageResult:
    """Concatenate the pieces' certified point tables in demand order; aggregate once."""
    frames, rows = [], []
    for r in results:
        frames.append(r.points)
        rows.append(r.rows)
    order = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    if len(order) != n or len(np.unique(order)) != n:
        raise RuntimeError(f"partitioned run returned {len(order)} of {n} demand points")
    pts = pd.concat(frames, ignore_index=True).iloc[np.argsort(order, kind="stable")]
    # rebuilt from arrays, so every column's dtype is inferred as the whole run infers it
    points = gpd.GeoDataFrame({c: pts[c].to_numpy() for c in pts.columns},
                              geometry=geometry.values, crs=geometry.crs)
    return coverage_from_points(points, areas)


def partitioned_coverage(region: Region, by: str, *, mapper: Mapper = serial_map,
                         task: Callable[[str], PieceResult] = run_piece_file,
                         workdir: str | Path | None = None) -> CoverageResult:
    """Coverage of ``region`` run partition by partition; equal to :func:`coverage_of_region`.

    ``mapper`` runs ``task`` over the saved pieces (serially here, on Dask with
    :func:`gis.partition_dask.dask_mapper`). The pieces are saved under ``workdir`` (a
    temporary folder by default) so that each task loads only its own arrays.
    """
    import tempfile

    clip, parts = plan_pieces(region, by)
    rule = buffer_rule(region.network, region.settings)
    log.info("%d partitions by %r; border buffer %.0f m (outlets %.0f m)", len(parts), by,
             rule.radius_m, rule.outlet_m)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        paths = list(write_pieces(clip, parts, region.areas, rule, Path(tmp) / "round1"))
        first = list(mapper(task, paths))
        spill_rows = np.concatenate([r.spill_rows for r in first])
        results = first
        if len(spill_rows):
            worst = max(r.spill_s for r in first if len(r.spill_rows))
            wide = None if not np.isfinite(worst) else buffer_rule(
                region.network, region.settings, limit_s=worst)
            log.info("second pass: %d points outside their circle, buffer %s", len(spill_rows),
                     "whole network" if wide is None else f"{wide.radius_m:.0f} m")
            paths2 = list(write_pieces(clip, [("spill", np.sort(spill_rows))], region.areas,
                                       wide, Path(tmp) / "round2"))
            second = list(mapper(task, paths2))
            if any(len(r.spill_rows) for r in second):
                raise RuntimeError("the second pass left points uncertified")
            results = first + second
    return merge(results, len(region.demand), region.demand.geometry, region.areas)
