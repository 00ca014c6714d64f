"""The whole network as flat arrays, saved once and memory-mapped by the workers.

:func:`network_arrays` lays a :class:`gis.network.RoadNetwork` out as CSR arrays per mode, edges
sorted by tail, part labels and a grid of node ids; :func:`write_cache` saves them as one
``.npy`` per array; :func:`open_cache` memory-maps them; :func:`cut` gathers only the rows of
the nodes a piece keeps (see :mod:`gis.partition`).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from .network import Edges, RoadNetwork

__all__ = ["network_arrays", "write_cache", "write_network_cache", "open_cache", "cut",
           "subnetwork"]

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


def write_cache(arrs: dict[str, Any], folder: Path) -> Path:
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


def open_cache(folder: str | Path) -> dict[str, Any]:
    """The cached arrays, memory-mapped read-only (pages are read only when a cut needs them)."""
    d = Path(folder)
    with open(d / "meta.pkl", "rb") as fh:
        arrs: dict[str, Any] = {"meta": pickle.load(fh)}
    for f in d.glob("*.npy"):
        arrs[f.name[:-4]] = np.load(f, mmap_mode="r")
    return arrs


def _gather(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the entries of CSR rows ``rows`` and the (new) row of each."""
    starts = np.asarray(ptr[rows], dtype=np.int64)
    lens = np.asarray(ptr[rows + 1], dtype=np.int64) - starts
    total = int(lens.sum())
    first = np.cumsum(lens) - lens
    pos = np.repeat(starts - first, lens) + np.arange(total, dtype=np.int64)
    return pos, np.repeat(np.arange(len(rows), dtype=np.int64), lens)


def _near_nodes(arrs: dict[str, Any], xy: np.ndarray, r: float) -> np.ndarray:
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


def cut(arrs: dict[str, Any], idx: np.ndarray) -> RoadNetwork:
    """The network on the sorted node ids ``idx``, cut from :func:`network_arrays`.

    Reads only the rows of the kept nodes (a memory-mapped cache stays on disk otherwise).
    Edges with both ends kept survive; the part labels are the whole network's, not
    recomputed, so snapping in the piece picks the same nodes as in the whole.
    """
    meta = arrs["meta"]
    n = len(idx)

    def local(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        j = np.minimum(np.searchsorted(idx, col), max(n - 1, 0))
        return (idx[j] == col) if n else np.zeros(len(col), bool), j

    edges: dict[str, Edges] = {}
    graphs, graphs_t, masks, labels = {}, {}, {}, {}
    for mode in meta["modes"]:
        pos, row = _gather(arrs[f"{mode}.g_ptr"], idx)
        ok, col = local(np.asarray(arrs[f"{mode}.g_col"][pos]))
        g = sp.csr_matrix((np.asarray(arrs[f"{mode}.g_val"][pos])[ok], (row[ok], col[ok])),
                          shape=(n, n))
        g.sort_indices()
        graphs[mode], graphs_t[mode] = g, g.T.tocsr()
        pos, row = _gather(arrs[f"{mode}.e_ptr"], idx)
        ok, v = local(np.asarray(arrs[f"{mode}.e_v"][pos]))
        edges[mode] = (row[ok], v[ok], np.asarray(arrs[f"{mode}.e_sec"][pos])[ok],
                       np.asarray(arrs[f"{mode}.e_len"][pos])[ok])
        masks[mode] = np.asarray(arrs[f"{mode}.mask"][idx])
        labels[mode] = np.asarray(arrs[f"{mode}.parts"][idx])
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


