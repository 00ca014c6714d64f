"""Cover sets from a road network: which demand points each candidate serves within the
demand point's own circle, as a sparse matrix of door-to-door seconds.

People travel to the outlet, so Dijkstra runs from the candidates on the transposed graph.
Door-to-door time = the demand point's access leg + network time + the candidate's egress leg;
a pair covers when it is within the demand point's own circle by the one rule of
:mod:`gis.rules` (the same rule :mod:`gis.coverage` and :mod:`gis.circles` ask).

Speed comes from settling fewer nodes and from using every core:

- candidates on the same network node run once (limit set by their smallest egress leg);
- each Dijkstra stops at the largest remaining budget in play for that mode, not a fixed cutoff;
- only distances at demand nodes are read, and only pairs within budget are kept, so memory is
  proportional to the covering pairs (plus one ``chunk × n_nodes`` block per worker);
- chunks run in worker processes: ``scipy.sparse.csgraph.dijkstra`` holds the GIL (two threads
  took 2.9× as long as one, measured), so threads would not help.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .._zorder import zorder_key

if TYPE_CHECKING:
    from ..network import RoadNetwork
from ..rules import search_limit_s, snapped, within_circle

__all__ = ["CoverSets", "ModeStats", "cover_matrix", "cover_matrix_plain",
           "network_cover_sets"]

log = logging.getLogger(__name__)

_SHARED: dict[str, Any] = {}


_EPS = 1e-7


def _init_worker(graph_t: sp.csr_matrix, tnodes: np.ndarray, tbudget: np.ndarray,
                 pot: np.ndarray) -> None:
    _SHARED.update(g=graph_t, tnodes=tnodes, tbudget=tbudget, pot=pot)


def _reweight(graph_t: sp.csr_matrix, tnodes: np.ndarray, toffset: np.ndarray,
              bmax: float) -> tuple[sp.csr_matrix, np.ndarray]:
    """Reduced-cost transposed graph and the potential ``h`` (``inf`` = useless node)."""
    n = graph_t.shape[0]
    fwd = sp.csr_matrix(graph_t.T)
    # a virtual source n with edges n -> target node, weight (unused budget + 1); the +1 keeps
    # every virtual edge positive and is taken off again
    data = np.concatenate([fwd.data, toffset + 1.0])
    indices = np.concatenate([fwd.indices, tnodes]).astype(np.int64)
    indptr = np.concatenate([fwd.indptr, [fwd.nnz + len(tnodes)]]).astype(np.int64)
    aug = sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    h = dijkstra(aug, directed=True, indices=n, limit=bmax + 1.0)[:n] - 1.0
    g = sp.csr_matrix(graph_t, copy=True)
    g.sort_indices()
    row = np.repeat(np.arange(n), np.diff(g.indptr))
    with np.errstate(invalid="ignore"):  # inf - inf: an edge between useless nodes
        w = g.data + h[g.indices] - h[row]
    keep = np.isfinite(w)
    w = np.maximum(w[keep], 0.0)
    coo = sp.coo_matrix((w, (row[keep], g.indices[keep])), shape=(n, n))
    out = sp.csr_matrix(coo)
    log.debug("prune: %d of %d nodes usable, %d of %d edges", int(np.isfinite(h).sum()), n,
              out.nnz, g.nnz)
    return out, h


class _Chunk(NamedTuple):
    """One batch of unique source nodes for one Dijkstra call."""

    nodes: np.ndarray
    """Source nodes."""
    min_off: np.ndarray
    """Each node's smallest egress offset (seconds)."""
    limit: float
    """The search limit (seconds, reduced costs)."""
    sel: np.ndarray
    """Positions of the nodes among the live source nodes."""


def _run_chunk(args: tuple[np.ndarray, np.ndarray, float]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dijkstra from one chunk of unique source nodes; return (source, target, seconds)."""
    nodes, min_off, limit = args
    g, tnodes, tbudget, pot = (_SHARED["g"], _SHARED["tnodes"], _SHARED["tbudget"],
                               _SHARED["pot"])
    dist = dijkstra(g, directed=True, indices=nodes, limit=limit)[:, tnodes]
    d = dist - pot[tnodes][None, :] + pot[nodes][:, None]
    ok = d <= tbudget[None, :] - min_off[:, None] + _EPS
    a, b = np.nonzero(ok)
    return a.astype(np.int64), b.astype(np.int64), d[a, b]


def _chunks(nodes: np.ndarray, min_off: np.ndarray, limit_of: np.ndarray, size: int,
            key: np.ndarray | None = None) -> list[_Chunk]:
    # nearby sources share a chunk (small union of reach) when positions are known,
    # else similar limits do
    order = np.argsort(limit_of if key is None else key, kind="stable")
    out = []
    for s in range(0, len(order), size):
        sel = order[s:s + size]
        out.append(_Chunk(nodes[sel], min_off[sel], float(limit_of[sel].max()), sel))
    return out


def cover_matrix(graph_t: sp.csr_matrix, source_nodes: np.ndarray, source_offset_s: np.ndarray,
                 target_nodes: np.ndarray, target_budget_s: np.ndarray, *,
                 chunk_size: int = 32, workers: int | None = None,
                 prune: bool = True, node_xy: np.ndarray | None = None) -> sp.csr_array:
    """Targets × sources seconds (network + source offset) for pairs within each target's budget.

    With ``prune`` (the default) each search settles only nodes on some demand → candidate
    path within budget: a potential ``h(v)`` = least "time from any target to ``v`` plus that
    target's unused budget" (one multi-source Dijkstra on the forward graph) reweights the
    transposed graph (A*-style, reduced costs ``w + h(u) - h(v) >= 0``), so a search stops
    where ``d(v → c) + h(v)`` exceeds the largest budget; nodes no target can use within
    budget drop out of the graph, and candidates no target can reach are skipped.

    Parameters
    ----------
    graph_t
        Transposed travel-time graph (row = to, column = from), seconds.
    source_nodes, source_offset_s
        Network node and fixed extra seconds (egress leg) of each source (candidate).
    target_nodes, target_budget_s
        Network node of each target (demand point) and the most seconds it may spend between
        its node and the outlet (its threshold minus its access leg).
    chunk_size
        Sources per Dijkstra call.
    workers
        Worker processes (default: up to 2 of the usable CPUs when the work is large enough
        to pay for a pool); 1 runs in this process.
    prune
        Reweight by the demand-side potential (see above); ``False`` for plain bounded runs.
    node_xy
        ``(n_nodes, 2)`` projected coordinates: chunks then hold nearby sources (Z-order).

    Returns
    -------
    scipy.sparse.csr_array
        ``(n_targets, n_sources)``, float64 seconds; explicit zeros are covering pairs.
    """
    src = np.asarray(source_nodes, dtype=np.int64)
    off = np.asarray(source_offset_s, dtype=float)
    tgt = np.asarray(target_nodes, dtype=np.int64)
    bud = np.asarray(target_budget_s, dtype=float)
    n_s, n_t = len(src), len(tgt)
    empty = sp.csr_array((n_t, n_s), dtype=float)
    ok_t = np.isfinite(bud) & (bud >= 0)
    if n_s == 0 or not ok_t.any():
        return empty
    # unique target nodes with their largest budget
    tnodes, t_inv = np.unique(tgt[ok_t], return_inverse=True)
    tmax = np.full(len(tnodes), -np.inf)
    np.maximum.at(tmax, t_inv, bud[ok_t])
    # unique source nodes with their smallest offset
    snodes, s_inv = np.unique(src, return_inverse=True)
    smin = np.full(len(snodes), np.inf)
    np.minimum.at(smin, s_inv, off)
    bmax = float(tmax.max())
    if prune:
        graph_t, pot = _reweight(graph_t, tnodes, bmax - tmax, bmax)
    else:
        pot = np.zeros(graph_t.shape[0])
    limit_of = bmax - smin - pot[snodes]
    live = np.isfinite(limit_of) & (limit_of >= 0)
    if node_xy is None:
        key = None
    else:
        xy = np.asarray(node_xy, float)[snodes[live]]
        key = zorder_key(xy[:, 0], xy[:, 1])
    chunks = _chunks(snodes[live], smin[live], limit_of[live], chunk_size, key)
    live_idx = np.flatnonzero(live)
    if not chunks:  # no candidate any demand point can reach within budget
        return empty
    if workers is None:  # processes pay off only for real work (a pool costs ~0.1 s)
        small = len(snodes) * graph_t.shape[0] < 5_000_000
        workers = 1 if small else min(2, len(os.sched_getaffinity(0)))
    n_workers = max(1, min(workers, len(chunks)))
    t0 = time.perf_counter()
    tasks = [(c.nodes, c.min_off, c.limit) for c in chunks]
    if n_workers == 1:
        _init_worker(graph_t, tnodes, tmax, pot)
        results = [_run_chunk(t) for t in tasks]
        _SHARED.clear()
    else:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(graph_t, tnodes, tmax, pot)) as pool:
            results = list(pool.map(_run_chunk, tasks))
    log.debug("cover_matrix: %d unique sources, %d chunks, %d workers, %.2f s",
              len(snodes), len(chunks), n_workers, time.perf_counter() - t0)
    # node pairs -> (unique source node, unique target node, seconds)
    sa = np.concatenate([live_idx[c.sel][r[0]] for c, r in zip(chunks, results, strict=True)])
    tb = np.concatenate([r[1] for r in results])
    dd = np.concatenate([r[2] for r in results])
    # expand node pairs to (target, source) pairs
    t_rows = np.flatnonzero(ok_t)
    t_order = np.argsort(t_inv, kind="stable")
    t_start = np.searchsorted(t_inv[t_order], np.arange(len(tnodes)))
    t_count = np.bincount(t_inv, minlength=len(tnodes))
    s_order = np.argsort(s_inv, kind="stable")
    s_start = np.searchsorted(s_inv[s_order], np.arange(len(snodes)))
    s_count = np.bincount(s_inv, minlength=len(snodes))
    rep_t = t_count[tb]
    k1 = np.repeat(np.arange(len(tb)), rep_t)
    pos_t = np.arange(len(k1)) - np.repeat(np.cumsum(rep_t) - rep_t, rep_t)
    target = t_rows[t_order[t_start[tb[k1]] + pos_t]]
    rep_s = s_count[sa[k1]]
    k2 = np.repeat(np.arange(len(k1)), rep_s)
    pos_s = np.arange(len(k2)) - np.repeat(np.cumsum(rep_s) - rep_s, rep_s)
    source = s_order[s_start[sa[k1[k2]]] + pos_s]
    target = target[k2]
    secs = dd[k1[k2]] + off[source]
    keep = secs <= bud[target] + _EPS
    coo = sp.coo_array((secs[keep], (target[keep], source[keep])), shape=(n_t, n_s))
    out = sp.csr_array(coo)
    out.sort_indices()
    return out


def cover_matrix_plain(graph_t: sp.csr_matrix, source_nodes: np.ndarray,
                       target_nodes: np.ndarray, limit_s: float, *,
                       chunk_size: int = 64) -> sp.csr_array:
    """Reference: plain chunked scipy Dijkstra with one fixed limit, one process.

    Returns targets × sources network seconds within ``limit_s`` (the baseline benchmarks
    compare against; also a test oracle).
    """
    src = np.asarray(source_nodes, dtype=np.int64)
    tgt = np.asarray(target_nodes, dtype=np.int64)
    rows, cols, vals = [], [], []
    for s in range(0, len(src), chunk_size):
        dist = dijkstra(graph_t, directed=True, indices=src[s:s + chunk_size], limit=limit_s)
        d = dist[:, tgt]
        a, b = np.nonzero(np.isfinite(d))
        rows.append(b)
        cols.append(a + s)
        vals.append(d[a, b])
    coo = sp.coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(len(tgt), len(src)))
    return sp.csr_array(coo)


def _snaps(network: RoadNetwork, lon: np.ndarray, lat: np.ndarray, mode: str,
           max_snap_m: float, *, keep_main: bool = False
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Network entry points of each point: its main-network snap and, when different and
    within ``max_snap_m``, its nearest-part snap (an island), as :mod:`gis.islands` does for
    coverage. Returns ``(node, access seconds, owner index)``; demand entries beyond
    ``max_snap_m`` are left out (``keep_main`` keeps every main snap: candidates' egress legs
    are not capped, as for outlets in coverage).
    """
    main = network.snap(lon, lat, mode=mode)
    ok = np.ones(len(main.node), bool) if keep_main else snapped(main.distance_m, max_snap_m)
    nodes, acc, own = [main.node[ok]], [main.access_s[ok]], [np.flatnonzero(ok)]
    if hasattr(network, "parts"):  # a RoadNetwork keeping every part of the network
        anyp = network.snap(lon, lat, mode=mode, islands=True)
        extra = np.flatnonzero((anyp.node != main.node) & snapped(anyp.distance_m, max_snap_m))
        nodes.append(anyp.node[extra])
        acc.append(anyp.access_s[extra])
        own.append(extra)
    return np.concatenate(nodes), np.concatenate(acc), np.concatenate(own)


def _min_per_pair(r: np.ndarray, c: np.ndarray,
                  v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The least value of each (row, column) pair."""
    if len(r) == 0:
        return r, c, v
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(len(r), bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return r[first], c[first], v[first]


class ModeStats(TypedDict):
    """What the cover-set search did for one mode."""

    demand: int
    pairs: int
    seconds: float


@dataclass(frozen=True)
class CoverSets:
    """Door-to-door seconds for every covering (demand, candidate) pair.

    Attributes
    ----------
    times
        CSR ``(n_demand, n_candidates)`` seconds; every stored entry (zeros included) covers.
    threshold_s
        Each demand point's own threshold, seconds.
    mode
        Each demand point's travel mode.
    reachable
        Demand points within ``max_snap_m`` of their mode's network.
    seconds
        Wall time spent.
    stats
        Per mode: demand points, covering pairs found, seconds spent.
    """

    times: sp.csr_array
    threshold_s: np.ndarray
    mode: np.ndarray
    reachable: np.ndarray
    seconds: float
    stats: dict[str, ModeStats] = field(default_factory=dict)

    @property
    def cover(self) -> sp.csr_array:
        """The same matrix (entries are covering pairs)."""
        return self.times


def network_cover_sets(network: RoadNetwork, demand_lon: np.ndarray, demand_lat: np.ndarray,
                       demand_minutes: np.ndarray, demand_mode: np.ndarray,
                       candidate_lon: np.ndarray, candidate_lat: np.ndarray, *,
                       max_snap_m: float = 1000.0, chunk_size: int = 32,
                       workers: int | None = None) -> CoverSets:
    """Cover sets on a :class:`gis.network.RoadNetwork`, each demand point by its own circle.

    Parameters
    ----------
    network
        Anything with ``snap(lon, lat, mode=)`` and ``graph_T(mode)`` (see dev-contract).
    demand_lon, demand_lat, demand_minutes, demand_mode
        Demand points with their circle (minutes and mode, e.g. 15/walk or 30/ebike).
    candidate_lon, candidate_lat
        Candidate sites; each is snapped in every mode in use, with a walking egress leg.
    max_snap_m
        Demand points further than this from their mode's network are unreachable.
    """
    t0 = time.perf_counter()
    dlon = np.asarray(demand_lon, float)
    dlat = np.asarray(demand_lat, float)
    clon = np.asarray(candidate_lon, float)
    clat = np.asarray(candidate_lat, float)
    minutes = np.asarray(demand_minutes, float)
    modes = np.asarray(demand_mode, dtype=object)
    n_d, n_c = len(dlon), len(clon)
    reachable = np.zeros(n_d, dtype=bool)
    rows, cols, vals = [], [], []
    stats: dict[str, ModeStats] = {}
    for mode in sorted(set(modes.tolist())):
        sel = np.flatnonzero(modes == mode)
        d_node, d_acc, d_own = _snaps(network, dlon[sel], dlat[sel], mode, max_snap_m)
        reachable[sel[np.unique(d_own)]] = True
        if n_c == 0 or len(d_node) == 0:
            continue
        c_node, c_acc, c_own = _snaps(network, clon, clat, mode, max_snap_m, keep_main=True)
        budget = search_limit_s(minutes[sel][d_own]) - d_acc
        t1 = time.perf_counter()
        m = cover_matrix(network.graph_T(mode), c_node, c_acc, d_node, budget,
                         chunk_size=chunk_size, workers=workers,
                         node_xy=np.column_stack([network.x, network.y]))
        stats[mode] = ModeStats(demand=len(sel), pairs=int(m.nnz),
                                seconds=round(time.perf_counter() - t1, 3))
        coo = m.tocoo()
        total = coo.data + d_acc[coo.row]
        r, c = d_own[coo.row], c_own[coo.col]
        keep = within_circle(total, minutes[sel][r])
        r, c, total = _min_per_pair(r[keep], c[keep], total[keep])
        rows.append(sel[r])
        cols.append(c)
        vals.append(total)
    if rows:
        coo = sp.coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(n_d, n_c))
        times = sp.csr_array(coo)
        times.sort_indices()
    else:
        times = sp.csr_array((n_d, n_c), dtype=float)
    return CoverSets(times, minutes * 60.0, modes, reachable, time.perf_counter() - t0, stats)
