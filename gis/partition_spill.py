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
  journey lies inside, so every point of it is exact.
* **No outlet in the piece, but on the main network.** A point whose main-network snap is
  within ``s`` surely reaches an outlet (every outlet has a source on the main network); its
  partition's buffer is doubled (the buffer rule at twice the seconds) until it finds one,
  then the case above applies.
* **Neither** (an island, a point too far from any road: unreachable in the whole run, whose
  reason text names the island's size and the nearest of *all* outlets): one piece of the
  whole network for these points only.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .partition_cache import _gather
from .rules import point_circles, point_is_urban, search_limit_s, snapped

if TYPE_CHECKING:
    from .partition import PieceResult, PieceSpec, _Clipper

__all__ = ["spill_nodes", "spill_passes"]

log = logging.getLogger(__name__)

#: Metres of slack on the spill region's test (float rounding of projected coordinates).
SLACK_M = 1.0
#: Points are grouped by their bound ``τ`` into at most this many bins for the region test.
_BINS = 16


def _speed(clip: _Clipper) -> float:
    """The fastest edge speed (m/s) over the circles' modes, as the buffer rule measures it."""
    from .partition import fastest_ms

    return max(fastest_ms(clip.net, c.mode) for c in clip.settings.circles.values())


def _f_lo(trees: list[tuple[cKDTree, float]], q: np.ndarray) -> np.ndarray:
    """``min over bins (distance to the bin's nearest point − the bin's largest reach)``."""
    f = np.full(len(q), np.inf)
    for tree, r in trees:
        d, _ = tree.query(q)
        np.minimum(f, d - r, out=f)
    return f


def spill_nodes(clip: _Clipper, rows: np.ndarray, tau_s: np.ndarray, speed_ms: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Node ids and outlet mask of the exact spill piece of ``rows`` with bounds ``tau_s``.

    Keeps node ``u`` when ``|p − u| − max_snap_m + g(u) ≤ τ v`` for one of the points ``p``
    (module docstring), with the points binned by ``τ`` (each bin at its largest ``τ``: a
    superset, still exact). The test runs first on the cells of the cache's grid (a cell
    whose centre fails or passes by more than the cell's reach is decided whole), then node
    by node in the cells in between. An outlet is kept when one of its source nodes is.
    """
    s = clip.settings.max_snap_m
    xy = np.column_stack([clip.dx[rows], clip.dy[rows]])
    reach = np.asarray(tau_s, dtype=float) * speed_ms + s + SLACK_M
    order = np.argsort(reach)
    trees = [(cKDTree(xy[part]), float(reach[part].max()))
             for part in np.array_split(order, min(_BINS, len(order))) if len(part)]
    src = np.unique(np.concatenate([nodes for nodes, _ in clip.sources]))
    gtree = cKDTree(np.column_stack([clip.net.x[src], clip.net.y[src]]))
    arrs = clip.arrays
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
        q = np.column_stack([clip.net.x[cand], clip.net.y[cand]])
        kept.append(cand[_f_lo(trees, q) + gtree.query(q)[0] <= 0])
    nodes = np.sort(np.concatenate(kept))
    o_in = np.zeros(len(clip.outlets), dtype=bool)
    for src_nodes, owner in clip.sources:
        o_in[owner[np.isin(src_nodes, nodes)]] = True
    return nodes, o_in


def _surely_reachable(clip: _Clipper, rows: np.ndarray, areas: pd.DataFrame) -> np.ndarray:
    """Mask of ``rows`` whose main-network snap is within ``max_snap_m`` (outlets exist)."""
    if len(clip.outlets) == 0:
        return np.zeros(len(rows), dtype=bool)
    dem = clip.demand.iloc[rows]
    _, modes = point_circles(point_is_urban(dem, areas), clip.settings.circles)
    out = np.zeros(len(rows), dtype=bool)
    lon, lat = dem["lon"].to_numpy(), dem["lat"].to_numpy()
    for mode in np.unique(modes):
        sel = modes == mode
        snap = clip.net.snap(lon[sel], lat[sel], mode=str(mode))
        out[sel] = snapped(snap.distance_m, clip.settings.max_snap_m)
    return out


def _save(spec: PieceSpec, folder: Path, n: int) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"spill-{n:05d}.pkl"
    with open(path, "wb") as fh:
        pickle.dump(spec, fh, protocol=5)
    return str(path)


def spill_passes(clip: _Clipper, areas: pd.DataFrame, pending: list[PieceResult],
                 folder: Path, mapper: Callable[[Callable[[str], Any], list[str]], Any],
                 task: Callable[[str], PieceResult]) -> list[PieceResult]:
    """Certify every spilled point of ``pending`` in bounded pieces; their results.

    One piece per partition and kind (exact region, doubled buffer) per round; the
    unreachable-for-sure points go to one whole-network piece. Rounds repeat while a doubled
    buffer still finds no outlet for some point.
    """
    from .partition import buffer_rule

    speed = _speed(clip)
    limit = max(search_limit_s(c.minutes) for c in clip.settings.circles.values())
    done: list[PieceResult] = []
    grow: dict[str, int] = {}
    n = 0
    for rnd in range(64):
        t0 = time.perf_counter()
        paths: list[str] = []
        for r in pending:
            if not len(r.spill_rows):
                continue
            t = np.full(len(r.spill_rows), np.inf) if r.spill_t is None else r.spill_t
            base = r.key.split("+")[0]
            fin = np.isfinite(t)
            if fin.any():
                rows = r.spill_rows[fin]
                nodes, o_in = spill_nodes(clip, rows, t[fin], speed)
                log.info("spill %s: %d points, exact piece of %d nodes", base, len(rows),
                         len(nodes))
                paths.append(_save(clip.spec(f"{base}+exact", rows, areas, None, nodes=nodes,
                                             o_in=o_in), folder / f"spill{rnd}", n))
                n += 1
            if (~fin).any():
                rows = r.spill_rows[~fin]
                sure = _surely_reachable(clip, rows, areas)
                if sure.any():
                    k = grow.get(base, 0) + 1
                    grow[base] = k
                    rule = buffer_rule(clip.net, clip.settings, limit_s=limit * 2.0 ** k)
                    log.info("spill %s: %d points found no outlet; buffer %.0f m", base,
                             int(sure.sum()), rule.radius_m)
                    paths.append(_save(clip.spec(f"{base}+grow", rows[sure], areas, rule),
                                       folder / f"spill{rnd}", n))
                    n += 1
                if (~sure).any():
                    log.info("spill %s: %d points unreachable for sure: whole network", base,
                             int((~sure).sum()))
                    paths.append(_save(clip.spec(f"{base}+whole", rows[~sure], areas, None),
                                       folder / f"spill{rnd}", n))
                    n += 1
        if not paths:
            return done
        t1 = time.perf_counter()
        res = list(mapper(task, paths))
        log.info("spill round %d: %d pieces, planned in %.1f s, run in %.1f s", rnd, len(paths),
                 t1 - t0, time.perf_counter() - t1)
        done += res
        pending = [r for r in res if len(r.spill_rows)]
    raise RuntimeError("the spill passes left points uncertified")
