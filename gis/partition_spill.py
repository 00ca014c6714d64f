"""The spill passes of a partitioned run: pieces bounded by each point's own journey.

A point a first-round piece cannot certify (:mod:`gis.partition`) is outside its circle (its
piece time ``τ`` is larger than the certified ``cert``) or found no outlet in its piece. The
whole run reports its exact minutes anyway (the search is not limited), so it needs a second
piece; this module keeps that piece as small as the point's journey allows, per partition:

* **Outside the circle (τ finite).** The piece time is never shorter than the true time
  ``τ*``, so ``τ*  ≤ τ``. A node ``u`` on the best journey (snap node ``a`` within ``s`` =
  ``max_snap_m`` of the point ``p``, outlet source node ``b``) satisfies
  ``(|a − u| + |u − b|) / v ≤ τ*`` at the fastest edge speed ``v``, hence
  ``|p − u| − s + g(u) ≤ τ v`` where ``g(u)`` is the straight distance from ``u`` to the
  nearest outlet source node. The spill piece keeps exactly the nodes satisfying that for one
  of its points (an ellipse-like region between the point and the outlets, not a disc of
  radius ``τ v``), the outlets with a source node among them, and their snap nodes: the best
  journey lies inside, so every point of it is exact. The test holds point by point, so any
  *group* of the points has its own exact region: a region over ``cap`` nodes is split into
  groups of points (halves along the longer side of their box, again while a group's region
  is over the cap and halving shrinks it), one spill piece per group.
* **No outlet in the piece, but on the main network.** A point whose main-network snap is
  within ``s`` surely reaches an outlet (every outlet has a source on the main network); its
  partition's buffer is doubled (the buffer rule at twice the seconds) until it finds one,
  then the case above applies. (Every piece that can spill holds every node within ``s`` of
  its points, so the piece's own snap decides this.)
* **Neither** (an island, a point too far from any road: unreachable in the whole run, whose
  reason text names the island's size and the nearest of *all* outlets): one piece of the
  whole network for these points only.

The pieces plan their own spills (:func:`plan_spills`, called by
:func:`gis.partition.run_piece_file` after its run): the spill specs are written beside the
run's files and their paths travel back in the result; the driver only maps them
(:func:`spill_passes`). What a task needs of the whole run beyond the network cache (outlets,
their source nodes, the speeds) is saved once by the driver (:func:`write_spill_context`).
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .partition_cache import _gather, _within
from .region import RegionSettings
from .rules import point_circles, point_is_urban, search_limit_s, snapped

if TYPE_CHECKING:
    from .partition import Piece, PieceResult, PieceSpec, _Clipper

__all__ = ["SpillContext", "spill_context", "write_spill_context", "read_spill_context",
           "spill_region", "spill_nodes", "spill_groups", "plan_spills", "spill_passes"]

log = logging.getLogger(__name__)

#: Metres of slack on the spill region's test (float rounding of projected coordinates).
SLACK_M = 1.0
#: Points are grouped by their bound ``τ`` into at most this many bins for the region test.
_BINS = 16
#: Default cap of a spill piece: this many times its first-round piece's nodes.
SPILL_CAP = 2.0
#: Halvings of a spill group at most (at most ``2 ** _DEPTH`` pieces per spill).
_DEPTH = 8
#: A group is halved only when the larger half's region is at most this share of its own.
_GAIN = 0.9
#: The file of the :class:`SpillContext` in the network cache folder.
CONTEXT_FILE = "spill.pkl"


@dataclass(frozen=True, eq=False)
class SpillContext:
    """What a task needs to plan its spill pieces, beyond the network cache (saved once)."""

    settings: RegionSettings
    outlets: gpd.GeoDataFrame
    ox: np.ndarray
    oy: np.ndarray
    sources: list[tuple[np.ndarray, np.ndarray]]  # (source node, owner outlet) per mode
    src_xy: np.ndarray  # metres of the distinct source nodes
    speed_ms: dict[str, float]  # fastest edge speed per circle mode
    limit_s: float  # the largest circle's search limit
    item_masks: np.ndarray | None
    item_live: np.ndarray | None
    cap: float = SPILL_CAP


def spill_context(clip: _Clipper, cap: float = SPILL_CAP) -> SpillContext:
    """The :class:`SpillContext` of a run (vectorised, once, on the driver)."""
    from .partition import fastest_ms

    circles = clip.settings.circles.values()
    src = (np.unique(np.concatenate([nodes for nodes, _ in clip.sources])) if clip.sources
           else np.zeros(0, np.int64))
    return SpillContext(settings=clip.settings, outlets=clip.outlets, ox=clip.ox, oy=clip.oy,
                        sources=clip.sources,
                        src_xy=np.column_stack([clip.net.x[src], clip.net.y[src]]),
                        speed_ms={c.mode: fastest_ms(clip.net, c.mode) for c in circles},
                        limit_s=max(search_limit_s(c.minutes) for c in circles),
                        item_masks=clip.item_masks, item_live=clip.item_live, cap=cap)


def write_spill_context(clip: _Clipper, folder: Path, cap: float = SPILL_CAP) -> Path:
    """Save :func:`spill_context` into the network cache ``folder``; its path."""
    path = folder / CONTEXT_FILE
    with open(path, "wb") as fh:
        pickle.dump(spill_context(clip, cap), fh, protocol=5)
    return path


def read_spill_context(folder: Path) -> SpillContext | None:
    """The context saved by :func:`write_spill_context` in ``folder``, or ``None``."""
    path = folder / CONTEXT_FILE
    if not path.exists():
        return None
    with open(path, "rb") as fh:
        ctx: SpillContext = pickle.load(fh)
    return ctx


# ------------------------------------------------------------------------ the region
def _f_lo(trees: list[tuple[cKDTree, float]], q: np.ndarray) -> np.ndarray:
    """``min over bins (distance to the bin's nearest point − the bin's largest reach)``."""
    f = np.full(len(q), np.inf)
    for tree, r in trees:
        d, _ = tree.query(q)
        np.minimum(f, d - r, out=f)
    return f


def spill_region(arrs: Mapping[str, Any], xy: np.ndarray, tau_s: np.ndarray, speed_ms: float,
                 max_snap_m: float, gtree: cKDTree) -> np.ndarray:
    """Sorted node ids of the exact spill region of the points ``xy`` with bounds ``tau_s``.

    Keeps node ``u`` when ``|p − u| − max_snap_m + g(u) ≤ τ v`` for one of the points ``p``
    (module docstring; ``g`` from ``gtree``, the outlet source nodes), with the points binned
    by ``τ`` (each bin at its largest ``τ``: a superset, still exact). The test runs first on
    the cells of the cache's grid (a cell whose centre fails or passes by more than the cell's
    reach is decided whole), then node by node in the cells in between.
    """
    reach = np.asarray(tau_s, dtype=float) * speed_ms + max_snap_m + SLACK_M
    order = np.argsort(reach)
    trees = [(cKDTree(xy[part]), float(reach[part].max()))
             for part in np.array_split(order, min(_BINS, len(order))) if len(part)]
    meta = arrs["meta"]
    c, nx, ny = meta["cell_m"], meta["nx"], meta["ny"]
    lo = np.floor((xy.min(axis=0) - reach.max() - (meta["x0"], meta["y0"])) / c).astype(int)
    hi = np.floor((xy.max(axis=0) + reach.max() - (meta["x0"], meta["y0"])) / c).astype(int)
    ci, cj = np.meshgrid(np.arange(max(lo[1], 0), min(hi[1], ny - 1) + 1),
                         np.arange(max(lo[0], 0), min(hi[0], nx - 1) + 1), indexing="ij")
    cells = (ci * nx + cj).ravel()
    ptr = np.asarray(arrs["cell_ptr"])
    cells = cells[ptr[cells + 1] > ptr[cells]]
    z = np.column_stack([meta["x0"] + (cells % nx + 0.5) * c,
                         meta["y0"] + (cells // nx + 0.5) * c])
    h = c * np.sqrt(0.5)  # centre to corner
    val = _f_lo(trees, z) + gtree.query(z)[0]
    whole = cells[val + 2 * h <= 0]
    some = cells[(val - 2 * h <= 0) & (val + 2 * h > 0)]
    cn = arrs["cell_nodes"]
    kept = [np.asarray(cn[_gather(ptr, whole)[0]])]
    if len(some):
        cand = np.asarray(cn[_gather(ptr, some)[0]])
        q = np.column_stack([np.asarray(arrs["x"][cand]), np.asarray(arrs["y"][cand])])
        kept.append(cand[_f_lo(trees, q) + gtree.query(q)[0] <= 0])
    return np.sort(np.concatenate(kept))


def _outlets_in(sources: list[tuple[np.ndarray, np.ndarray]], n_outlets: int,
                nodes: np.ndarray) -> np.ndarray:
    """Mask of the outlets with a source node among ``nodes``."""
    o_in = np.zeros(n_outlets, dtype=bool)
    for src_nodes, owner in sources:
        o_in[owner[np.isin(src_nodes, nodes)]] = True
    return o_in


def spill_nodes(clip: _Clipper, rows: np.ndarray, tau_s: np.ndarray, speed_ms: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Node ids and outlet mask of the exact spill piece of demand ``rows`` (one group)."""
    ctx = spill_context(clip)
    xy = np.column_stack([clip.dx[rows], clip.dy[rows]])
    nodes = spill_region(clip.arrays, xy, tau_s, speed_ms, clip.settings.max_snap_m,
                         cKDTree(ctx.src_xy))
    return nodes, _outlets_in(ctx.sources, len(clip.outlets), nodes)


def spill_groups(arrs: Mapping[str, Any], xy: np.ndarray, tau_s: np.ndarray, speed_ms: float,
                 max_snap_m: float, gtree: cKDTree, cap: int
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(positions in xy, region nodes)]``: the points in groups, each with its own region.

    A group whose region is over ``cap`` nodes is halved along the longer side of its points'
    box (at the median), at most :data:`_DEPTH` times, and only when the larger half's region
    is at most :data:`_GAIN` of the group's (halving a group whose points share one region
    only multiplies the tasks). Each group's region is :func:`spill_region` of its own points,
    so each is exact for them.
    """
    def region(pos: np.ndarray) -> np.ndarray:
        return spill_region(arrs, xy[pos], tau_s[pos], speed_ms, max_snap_m, gtree)

    out: list[tuple[np.ndarray, np.ndarray]] = []
    everyone = np.arange(len(xy))
    todo = [(everyone, region(everyone), 0)]
    while todo:
        pos, nodes, depth = todo.pop()
        if len(nodes) <= cap or len(pos) < 2 or depth >= _DEPTH:
            out.append((pos, nodes))
            continue
        p = xy[pos]
        axis = int(np.argmax(p.max(axis=0) - p.min(axis=0)))
        order = pos[np.argsort(p[:, axis], kind="stable")]
        lo, hi = np.sort(order[:len(order) // 2]), np.sort(order[len(order) // 2:])
        n_lo, n_hi = region(lo), region(hi)
        if max(len(n_lo), len(n_hi)) > _GAIN * len(nodes):
            out.append((pos, nodes))
            continue
        del nodes
        todo += [(hi, n_hi, depth + 1), (lo, n_lo, depth + 1)]
    return out


# ------------------------------------------------------------------------ in the task
def surely_reachable(piece: Piece, local: np.ndarray, any_outlet: bool) -> np.ndarray:
    """Mask of the piece's points ``local`` whose main-network snap is within ``max_snap_m``.

    The piece holds every node within ``max_snap_m`` of its points (its buffer is wider), and
    the whole network's main-network masks, so its snap decides as the whole network's would.
    ``any_outlet``: the whole run has an outlet at all.
    """
    if not any_outlet:
        return np.zeros(len(local), dtype=bool)
    dem = piece.demand.iloc[local]
    _, modes = point_circles(point_is_urban(dem, piece.areas), piece.settings.circles)
    out = np.zeros(len(local), dtype=bool)
    lon, lat = dem["lon"].to_numpy(), dem["lat"].to_numpy()
    for mode in np.unique(modes):
        sel = modes == mode
        snap = piece.network.snap(lon[sel], lat[sel], mode=str(mode))
        out[sel] = snapped(snap.distance_m, piece.settings.max_snap_m)
    return out


def _child(parent: PieceSpec, ctx: SpillContext, key: str, local: np.ndarray, *,
           nodes: np.ndarray | None = None, grow: int = 0, cap: int = 0) -> PieceSpec:
    """The spill spec of the parent's points ``local``: exact (``nodes``), grown or whole.

    The same spec :meth:`gis.partition._Clipper.spec` writes for those points.
    """
    from .partition import PieceSpec, buffer_rule_from

    circles = ctx.settings.circles.values()
    pts = parent.xy[local]
    if nodes is not None:
        o_in = _outlets_in(ctx.sources, len(ctx.outlets), nodes)
        cert, radius = {c.mode: np.inf for c in circles}, np.inf
    elif grow:
        rule = buffer_rule_from(ctx.speed_ms, ctx.settings, ctx.limit_s * 2.0 ** grow)
        o_in = _within(pts, ctx.ox, ctx.oy, rule.outlet_m)
        cert, radius = rule.cert_s, rule.radius_m
    else:
        o_in = np.ones(len(ctx.outlets), dtype=bool)
        cert, radius = {c.mode: np.inf for c in circles}, np.inf
    force = [src[o_in[owner]] for src, owner in ctx.sources]
    dem = parent.demand.iloc[local].reset_index(drop=True)
    areas = parent.areas
    return PieceSpec(key=key, settings=ctx.settings,
                     outlets=ctx.outlets[o_in].reset_index(drop=True), demand=dem,
                     areas=pd.DataFrame(areas.loc[areas["id"].isin(set(dem["area_id"]))]
                                        ).reset_index(drop=True),
                     rows=parent.rows[local], cert_s=cert, xy=pts, radius_m=float(radius),
                     force=np.unique(np.concatenate(force)) if force else np.zeros(0, np.int64),
                     item_masks=None if ctx.item_masks is None else ctx.item_masks[o_in],
                     item_live=ctx.item_live,
                     nodes=None if nodes is None else np.asarray(nodes, dtype=np.int64),
                     exact=nodes is not None, grow=grow, cap_nodes=cap)


def plan_spills(spec: PieceSpec, result: PieceResult, sure: np.ndarray, arrs: Mapping[str, Any],
                ctx: SpillContext, folder: Path, stem: str, cap: int) -> list[str]:
    """Write the spill specs of ``result``'s spilled points into ``folder``; their paths.

    ``sure`` marks, among the points that found no outlet, those surely reaching one
    (:func:`surely_reachable`); ``cap`` bounds an exact piece's nodes (:func:`spill_groups`).
    """
    local = pd.Index(spec.rows).get_indexer(result.spill_rows)
    t = np.full(len(local), np.inf) if result.spill_t is None else result.spill_t
    base = spec.key.split("+")[0]
    fin = np.isfinite(t)
    folder.mkdir(parents=True, exist_ok=True)
    specs: list[tuple[str, PieceSpec]] = []
    if fin.any():
        speed = max(ctx.speed_ms.values())
        groups = spill_groups(arrs, spec.xy[local[fin]], t[fin], speed,
                              ctx.settings.max_snap_m, cKDTree(ctx.src_xy), cap)
        for i, (pos, nodes) in enumerate(groups):
            log.info("spill %s: %d points, exact piece of %d nodes", base, len(pos), len(nodes))
            specs.append((f"exact-{i}", _child(spec, ctx, f"{base}+exact", local[fin][pos],
                                                nodes=nodes, cap=cap)))
    nf = local[~fin]
    if len(nf) and sure.any():
        log.info("spill %s: %d points found no outlet; buffer doubled", base, int(sure.sum()))
        specs.append(("grow", _child(spec, ctx, f"{base}+grow", nf[sure], grow=spec.grow + 1,
                                     cap=cap)))
    if len(nf) and (~sure).any():
        log.info("spill %s: %d points unreachable for sure: whole network", base,
                 int((~sure).sum()))
        specs.append(("whole", _child(spec, ctx, f"{base}+whole", nf[~sure], cap=cap)))
    paths = []
    for name, child in specs:
        path = folder / f"{stem}-{name}.pkl"
        with open(path, "wb") as fh:
            pickle.dump(child, fh, protocol=5)
        paths.append(str(path))
    return paths


# ------------------------------------------------------------------------ on the driver
def spill_passes(pending: list[PieceResult],
                 mapper: Callable[[Callable[[str], Any], list[str]], Any],
                 task: Callable[[str], PieceResult]) -> list[PieceResult]:
    """Run the spill specs the pieces of ``pending`` wrote, round after round; their results.

    The driver plans nothing: each task wrote its spilled points' specs
    (:func:`plan_spills`) and returned their paths. Rounds repeat while a doubled buffer
    still finds no outlet for some point.
    """
    done: list[PieceResult] = []
    for rnd in range(64):
        paths: list[str] = []
        for r in pending:
            if len(r.spill_rows) and not r.spill_specs:
                raise RuntimeError(f"piece {r.key} spilled points but wrote no spill specs")
            paths += r.spill_specs
        if not paths:
            return done
        t0 = time.perf_counter()
        res = list(mapper(task, paths))
        log.info("spill round %d: %d pieces run in %.1f s", rnd, len(paths),
                 time.perf_counter() - t0)
        done += res
        pending = res
    raise RuntimeError("the spill passes left points uncertified")
