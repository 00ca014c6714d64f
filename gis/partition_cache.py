"""The whole network as flat arrays, saved once and memory-mapped by the workers.

:func:`network_arrays` lays a :class:`gis.network.RoadNetwork` out as CSR arrays per mode, edges
sorted by tail, part labels and a grid of node ids; :func:`write_cache` saves them as one
``.npy`` per array; :func:`open_cache` memory-maps them; :func:`cut` gathers only the rows of
the nodes a piece keeps (see :mod:`gis.partition`).

A memory-mapped page a task reads counts in its resident memory for as long as the mapping
lives (and the kernel maps the cached pages around each one read, up to 64 KB). So the cache
maps an array afresh each time it is looked up, and the mapping ends as soon as the caller
drops it: a task holds the pages of the one array it is gathering from, not every page any
gather touched (``docs/scale.md``, wave 6).
"""

from __future__ import annotations

import pickle
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .network import Edges, RoadNetwork

__all__ = ["CachedArrays", "network_arrays", "write_cache", "write_network_cache", "open_cache",
           "cut", "subnetwork"]

_CELL_M = 1000.0


def _iter_arrays(net: RoadNetwork, cell_m: float = _CELL_M) -> Iterator[tuple[str, Any]]:
    """``(name, array)`` of :func:`network_arrays` one at a time, ``("meta", dict)`` last."""
    yield from (("node_osmid", net.node_osmid), ("x", net.x), ("y", net.y), ("lon", net.lon),
                ("lat", net.lat))
    meta: dict[str, Any] = {"crs": net.crs, "speeds": net.speeds, "modes": list(net.modes),
                            "n": net.n_nodes, "cell_m": cell_m}
    x0, y0 = (float(net.x.min()), float(net.y.min())) if net.n_nodes else (0.0, 0.0)
    cx = ((net.x - x0) // cell_m).astype(np.int64)
    cy = ((net.y - y0) // cell_m).astype(np.int64)
    nx = int(cx.max()) + 1 if net.n_nodes else 1
    ny = int(cy.max()) + 1 if net.n_nodes else 1
    cell = cy * nx + cx
    del cx, cy
    yield "cell_nodes", np.argsort(cell, kind="stable")
    yield "cell_ptr", np.r_[0, np.cumsum(np.bincount(cell, minlength=nx * ny))]
    del cell
    meta.update(x0=x0, y0=y0, nx=nx, ny=ny)
    for mode in net.modes:
        g = net.graph(mode)
        yield from ((f"{mode}.g_ptr", g.indptr), (f"{mode}.g_col", g.indices),
                    (f"{mode}.g_val", g.data))
        u, v, sec, length = net.edges(mode)
        o = np.argsort(u, kind="stable")
        yield f"{mode}.e_ptr", np.r_[0, np.cumsum(np.bincount(u, minlength=net.n_nodes))]
        yield f"{mode}.e_v", v[o]
        yield f"{mode}.e_sec", sec[o]
        yield f"{mode}.e_len", length[o]
        del o
        yield f"{mode}.mask", net.nodes_in(mode)
        yield f"{mode}.parts", net.parts(mode)
    yield "meta", meta


def network_arrays(net: RoadNetwork, cell_m: float = _CELL_M) -> dict[str, Any]:
    """The network as flat arrays a piece is cut from (:func:`cut`), in memory.

    Per mode: the CSR graph, the edges sorted by their tail with a row pointer, the main-network
    mask and part labels; plus a grid of ``cell_m`` cells listing their nodes, so a cut reads
    only the nodes near its demand.
    """
    return dict(_iter_arrays(net, cell_m))


def write_cache(arrs: Mapping[str, Any], folder: Path) -> Path:
    """Save :func:`network_arrays` as one ``.npy`` per array (memory-mappable) + ``meta.pkl``."""
    return _write(arrs.items(), folder)


def write_network_cache(net: RoadNetwork, folder: Path) -> Path:
    """:func:`write_cache` of ``net`` computing one array at a time (no second copy held)."""
    return _write(_iter_arrays(net), folder)


def _write(items: Iterable[tuple[str, Any]], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, a in items:
        if name == "meta":
            with open(folder / "meta.pkl", "wb") as fh:
                pickle.dump(a, fh)
        else:
            np.save(folder / f"{name}.npy", np.ascontiguousarray(a))
    return folder


class CachedArrays(Mapping[str, Any]):
    """The arrays of a cache folder, each memory-mapped read-only when looked up.

    ``arrs[name]`` maps ``name.npy`` afresh (a file open and a header read); the mapping, and
    the pages read through it, go when the returned array and its views are dropped.
    ``arrs["meta"]`` is the unpickled ``meta.pkl``.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        with open(self.folder / "meta.pkl", "rb") as fh:
            self.meta: dict[str, Any] = pickle.load(fh)
        self._names = sorted(f.name[:-4] for f in self.folder.glob("*.npy"))

    def __getitem__(self, name: str) -> Any:
        if name == "meta":
            return self.meta
        if name not in self._names:
            raise KeyError(name)
        return np.load(self.folder / f"{name}.npy", mmap_mode="r")

    def __iter__(self) -> Iterator[str]:
        return iter(["meta", *self._names])

    def __len__(self) -> int:
        return 1 + len(self._names)


def open_cache(folder: str | Path) -> CachedArrays:
    """The cached arrays, memory-mapped read-only on each look-up (:class:`CachedArrays`)."""
    return CachedArrays(folder)


def _gather(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the entries of CSR rows ``rows`` and the (new) row of each."""
    starts = np.asarray(ptr[rows], dtype=np.int64)
    lens = np.asarray(ptr[rows + 1], dtype=np.int64) - starts
    total = int(lens.sum())
    first = np.cumsum(lens) - lens
    pos = np.repeat(starts - first, lens) + np.arange(total, dtype=np.int64)
    return pos, np.repeat(np.arange(len(rows), dtype=np.int64), lens)


def _near_nodes(arrs: Mapping[str, Any], xy: np.ndarray, r: float) -> np.ndarray:
    """Sorted ids of the nodes within ``r`` metres of a point of ``xy`` (grid cells first)."""
    meta = arrs["meta"]
    if not np.isfinite(r):
        return np.arange(meta["n"], dtype=np.int64)
    if len(xy) == 0:
        return np.zeros(0, np.int64)
    c, nx, ny = meta["cell_m"], meta["nx"], meta["ny"]
    lo = np.floor((xy.min(axis=0) - r - (meta["x0"], meta["y0"])) / c).astype(int)
    hi = np.floor((xy.max(axis=0) + r - (meta["x0"], meta["y0"])) / c).astype(int)
    x_lo, x_hi = max(lo[0], 0), min(hi[0], nx - 1)
    ptr, nodes = arrs["cell_ptr"], arrs["cell_nodes"]
    cand = [np.asarray(nodes[ptr[cy * nx + x_lo]:ptr[cy * nx + x_hi + 1]])
            for cy in range(max(lo[1], 0), min(hi[1], ny - 1) + 1) if x_lo <= x_hi]
    ids = np.sort(np.concatenate(cand)) if cand else np.zeros(0, np.int64)
    x, y = np.asarray(arrs["x"][ids]), np.asarray(arrs["y"][ids])
    return ids[_within(xy, x, y, r)]


def _local(idx: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of the node ids ``col`` kept in the sorted ``idx``, and their positions in it."""
    n = len(idx)
    j = np.minimum(np.searchsorted(idx, col), max(n - 1, 0))
    return (idx[j] == col) if n else np.zeros(len(col), bool), j


def _cut_edges(arrs: Mapping[str, Any], idx: np.ndarray, mode: str) -> Edges:
    """The mode's edges with both ends among the sorted node ids ``idx`` (local ids)."""
    pos, row = _gather(arrs[f"{mode}.e_ptr"], idx)
    ok, v = _local(idx, np.asarray(arrs[f"{mode}.e_v"][pos]))
    return (row[ok], v[ok], np.asarray(arrs[f"{mode}.e_sec"][pos])[ok],
            np.asarray(arrs[f"{mode}.e_len"][pos])[ok])


class _CutEdges(Mapping[str, Edges]):
    """A piece's edge lists per mode, cut from the cache when first asked for.

    Coverage searches the CSR graphs; only an island's reason text
    (:func:`gis.islands.reasons`) reads the edge lists, and they are the largest part of a
    piece (32 bytes an edge a mode), so a piece cut from the cache leaves them on disk until
    then.
    """

    def __init__(self, arrs: CachedArrays, idx: np.ndarray, modes: list[str]) -> None:
        self._arrs, self._idx, self._modes = arrs, idx, modes
        self._done: dict[str, Edges] = {}

    def __getitem__(self, mode: str) -> Edges:
        if mode not in self._modes:
            raise KeyError(mode)
        if mode not in self._done:
            self._done[mode] = _cut_edges(self._arrs, self._idx, mode)
        return self._done[mode]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modes)

    def __len__(self) -> int:
        return len(self._modes)


def cut(arrs: Mapping[str, Any], idx: np.ndarray, *,
        modes: Collection[str] | None = None) -> RoadNetwork:
    """The network on the sorted node ids ``idx``, cut from :func:`network_arrays`.

    Reads only the rows of the kept nodes (a memory-mapped cache stays on disk otherwise).
    Edges with both ends kept survive; the part labels are the whole network's, not
    recomputed, so snapping in the piece picks the same nodes as in the whole. ``modes``: cut
    only these of the network's modes (default: all); a coverage piece needs only its
    circles' modes, and each mode is about a third of a three-mode piece. Cut from a cache
    (:func:`open_cache`), the edge lists are read when first asked for (:class:`_CutEdges`).
    """
    meta = arrs["meta"]
    n = len(idx)
    keep = [m for m in meta["modes"] if modes is None or m in modes]
    graphs, graphs_t, masks, labels = {}, {}, {}, {}
    for mode in keep:
        pos, row = _gather(arrs[f"{mode}.g_ptr"], idx)
        ok, col = _local(idx, np.asarray(arrs[f"{mode}.g_col"][pos]))
        val = np.asarray(arrs[f"{mode}.g_val"][pos])[ok]
        del pos
        g = sp.csr_matrix((val, (row[ok], col[ok])), shape=(n, n))
        del val, row, col, ok
        g.sort_indices()
        graphs[mode], graphs_t[mode] = g, g.T.tocsr()
        masks[mode] = np.asarray(arrs[f"{mode}.mask"][idx])
        labels[mode] = np.asarray(arrs[f"{mode}.parts"][idx])
    edges: Mapping[str, Edges] = (_CutEdges(arrs, idx, keep) if isinstance(arrs, CachedArrays)
                                  else {mode: _cut_edges(arrs, idx, mode) for mode in keep})
    return RoadNetwork(crs=meta["crs"], node_osmid=np.asarray(arrs["node_osmid"][idx]),
                       x=np.asarray(arrs["x"][idx]), y=np.asarray(arrs["y"][idx]),
                       lon=np.asarray(arrs["lon"][idx]), lat=np.asarray(arrs["lat"][idx]),
                       speeds=meta["speeds"], _edges=edges, _graphs=graphs,
                       _graphs_T=graphs_t, _masks=masks, _labels=labels)


def subnetwork(network: RoadNetwork, keep: np.ndarray) -> RoadNetwork:
    """The network restricted to the nodes in ``keep`` (bool mask), via :func:`cut`."""
    return cut(network_arrays(network), np.flatnonzero(keep))


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


