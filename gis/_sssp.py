"""Multi-source nearest-source search over a road graph, compiled with numba.

Why not ``scipy.sparse.csgraph.dijkstra``: at 400k nodes a shortest-path search is bound by
memory latency, not arithmetic, and scipy's Fibonacci heap touches scattered heap nodes for every
settle. With per-source start times (the egress leg to each outlet) scipy also needs a virtual
super-source — a copy of the whole graph — and a walk up the predecessor tree to learn which
source won. This kernel:

* keeps the adjacency in a padded fixed-width layout (``ELL``: ``D`` slots per node, overflow
  in a small CSR), so a node's edges sit in one cache line and there is no ``indptr`` lookup;
* keeps each node's time and winning source side by side (one cache line per node);
* replaces the heap by circular buckets of width ``delta`` = the smallest positive edge time
  (Dial's algorithm). A node in the current bucket cannot be improved by another node of the
  same bucket, so its time is final when the bucket is scanned; edges shorter than ``delta``
  (zero-length ones, or a ``delta`` clamped so the bucket ring stays small) are handled by
  re-scanning a node whose time still drops (label-correcting inside the bucket), so the
  result stays exact for every non-negative weight;
* seeds every source at its own start time and carries the source's index along.

Ties between sources at the same time go to the smaller source index, so the answer does not
depend on the order of equal sources. ``cache=True`` stores the compiled code in
``__pycache__``: the first call in a fresh checkout compiles (a second or two), later processes
load it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

__all__ = ["Adjacency", "nearest_sources"]

_MAX_BUCKETS = 1 << 16


@dataclass(frozen=True)
class Adjacency:
    """A CSR graph in the padded layout the kernel reads (built once per graph)."""

    ell_v: np.ndarray  # (n, D) int32, -1 after the last edge of a node
    ell_w: np.ndarray  # (n, D) float64
    ov_ptr: np.ndarray  # (n + 1,) int64: edges beyond the D-th, CSR
    ov_v: np.ndarray
    ov_w: np.ndarray
    delta: float  # bucket width
    w_max: float

    @property
    def n(self) -> int:
        return self.ell_v.shape[0]

    @classmethod
    def from_csr(cls, g: sp.csr_matrix, *, width: int | None = None) -> Adjacency:
        """``width`` slots per node (default: the 98th-percentile degree, 2 to 8)."""
        n = g.shape[0]
        indptr = g.indptr.astype(np.int64)
        deg = np.diff(indptr)
        if width is None:
            width = int(np.clip(np.percentile(deg, 98) if n else 2, 2, 8))
        ell_v = np.full((n, width), -1, dtype=np.int32)
        ell_w = np.zeros((n, width))
        ov_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.maximum(deg - width, 0), out=ov_ptr[1:])
        del deg
        ov_v = np.empty(int(ov_ptr[-1]), dtype=np.int32)
        ov_w = np.empty(int(ov_ptr[-1]))
        # filled in one compiled pass: no per-edge index arrays (a piece task's peak)
        _fill(indptr, g.indices, g.data, ell_v, ell_w, ov_ptr, ov_v, ov_w)
        w = np.asarray(g.data, dtype=float)
        if len(w) and (w < 0).any():
            raise ValueError("negative edge time in the road graph")
        w_max = float(w.max()) if len(w) else 0.0
        delta = float(np.min(w, where=w > 0, initial=np.inf))
        delta = 1.0 if delta == np.inf else delta  # no positive edge time
        delta = max(delta, w_max / _MAX_BUCKETS)
        return cls(ell_v, ell_w, ov_ptr, ov_v, ov_w, delta, w_max)


@njit(cache=True, nogil=True)
def _fill(indptr, indices, data, ell_v, ell_w, ov_ptr, ov_v, ov_w):  # pragma: no cover - compiled
    """Each node's first ``width`` edges into its ELL row, the rest into the overflow CSR."""
    width = ell_v.shape[1]
    for u in range(ell_v.shape[0]):
        o = ov_ptr[u]
        for e in range(indptr[u], indptr[u + 1]):
            j = e - indptr[u]
            if j < width:
                ell_v[u, j] = indices[e]
                ell_w[u, j] = data[e]
            else:
                ov_v[o] = indices[e]
                ov_w[o] = data[e]
                o += 1


@njit(cache=True, nogil=True, inline="always")
def _offer(tl, done, ent, head, used, v, t, lab, delta, limit):  # pragma: no cover - compiled
    """Node ``v`` reached at time ``t`` from source ``lab``: keep and queue it if better.

    Returns the new count of queue entries (unchanged if not better; -1 when ``ent`` is full).
    """
    if not t <= limit or t == np.inf:
        return used
    if not (t < tl[v, 0] or (t == tl[v, 0] and lab < tl[v, 1])):
        return used
    tl[v, 0] = t
    tl[v, 1] = lab
    done[v] = 0  # only an edge shorter than delta can reopen a scanned node
    if used == ent.shape[0]:
        return -1
    b = int(t / delta) % head.shape[0]
    ent[used, 0] = v
    ent[used, 1] = head[b]
    head[b] = used
    return used + 1


@njit(cache=True, nogil=True)
def _kernel(ell_v, ell_w, ov_ptr, ov_v, ov_w, src_nodes, src_time, limit, delta,
            tl, done, ent, head):  # pragma: no cover - compiled
    n = ell_v.shape[0]
    width = ell_v.shape[1]
    for i in range(n):
        tl[i, 0] = np.inf
        tl[i, 1] = -1.0
        done[i] = 0
    n_buckets = head.shape[0]
    for i in range(n_buckets):
        head[i] = -1
    used = 0  # queue entries written; each is read once
    for i in range(src_nodes.shape[0]):
        used = _offer(tl, done, ent, head, used, src_nodes[i], src_time[i], i, delta, limit)
        if used < 0:
            return -1
    popped = 0
    cur = 0
    while popped < used:
        b = cur % n_buckets
        while head[b] != -1:
            k = head[b]
            head[b] = ent[k, 1]
            popped += 1
            u = ent[k, 0]
            if done[u]:
                continue
            tu = tl[u, 0]
            if int(tu / delta) != cur:
                continue  # stale: the node moved to an earlier bucket and was scanned there
            done[u] = 1
            lu = tl[u, 1]
            extra = ov_ptr[u + 1] - ov_ptr[u]
            for j in range(width + extra):
                if j < width:
                    v = ell_v[u, j]
                    if v < 0:
                        if extra == 0:
                            break
                        continue
                    nt = tu + ell_w[u, j]
                else:
                    e = ov_ptr[u] + j - width
                    v = ov_v[e]
                    nt = tu + ov_w[e]
                used = _offer(tl, done, ent, head, used, v, nt, lu, delta, limit)
                if used < 0:
                    return -1
        cur += 1
    return used


def nearest_sources(adj: Adjacency, sources: np.ndarray, start_s: np.ndarray | None = None,
                    limit_s: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Time from the nearest source to every node, and that source's index into ``sources``.

    The search follows the edges of ``adj`` forward from each source, starting at
    ``start_s[i]`` (0 if not given). Nodes no source reaches within ``limit_s`` get ``inf``
    and ``-1``.
    """
    sources = np.ascontiguousarray(sources, dtype=np.int64)
    start = (np.zeros(len(sources)) if start_s is None
             else np.ascontiguousarray(start_s, dtype=float))
    if len(start) != len(sources):
        raise ValueError("one start time per source")
    if len(sources) and ((sources < 0) | (sources >= adj.n)).any():
        raise ValueError("source node out of range")
    if (start < 0).any() or np.isnan(start).any():
        raise ValueError("start times must be non-negative")
    n = adj.n
    # work arrays come from numpy (large ones get transparent huge pages), not from numba
    tl = np.empty((n, 2))
    done = np.empty(n, dtype=np.uint8)
    finite = start[np.isfinite(start) & (start <= limit_s)]
    reach = max(adj.w_max, float(finite.max()) if len(finite) else 0.0)
    head = np.empty(int(reach / adj.delta) + 2, dtype=np.int64)
    cap = 2 * n + len(sources) + 16
    while True:
        ent = np.empty((cap, 2), dtype=np.int32 if cap < 2**31 else np.int64)
        used = _kernel(adj.ell_v, adj.ell_w, adj.ov_ptr, adj.ov_v, adj.ov_w, sources, start,
                       float(limit_s), adj.delta, tl, done, ent, head)
        if used >= 0:
            break
        cap *= 2  # many re-opened nodes: rare; run again with room
    return tl[:, 0].copy(), tl[:, 1].astype(np.int64)
