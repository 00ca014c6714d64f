"""Synthetic clustered siting instances for tests and benchmarks (planar, metres)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

__all__ = ["Instance", "clustered_instance", "cover_within"]


@dataclass(frozen=True)
class Instance:
    """Points, weights, costs and a Euclidean cover matrix of a synthetic instance.

    Attributes
    ----------
    demand_xy, candidate_xy
        ``(n, 2)`` coordinates in metres.
    weights
        Integer population per demand point.
    costs
        Cost per candidate (1 to 5 units).
    radius
        Cover radius in metres.
    cover
        CSR ``(n_demand, n_candidate)`` boolean cover matrix.
    """

    demand_xy: np.ndarray
    candidate_xy: np.ndarray
    weights: np.ndarray
    costs: np.ndarray
    radius: float
    cover: sp.csr_array


def cover_within(demand_xy: np.ndarray, candidate_xy: np.ndarray, radius: float) -> sp.csr_array:
    """Boolean CSR of demand × candidate pairs within ``radius`` metres (straight line)."""
    tree = cKDTree(candidate_xy)
    lists = tree.query_ball_point(demand_xy, r=radius, return_sorted=True)
    lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    indptr = np.concatenate([[0], np.cumsum(lens)])
    indices = (np.concatenate([np.asarray(x, dtype=np.int32) for x in lists])
               if indptr[-1] else np.zeros(0, np.int32))
    data = np.ones(len(indices), dtype=bool)
    return sp.csr_array((data, indices, indptr), shape=(len(demand_xy), len(candidate_xy)))


def _clustered_points(rng: np.random.Generator, n: int, centres: np.ndarray, spread: float,
                      side: float, share_uniform: float) -> np.ndarray:
    n_uni = int(round(n * share_uniform))
    which = rng.integers(0, len(centres), n - n_uni)
    pts = centres[which] + rng.normal(0.0, spread, (n - n_uni, 2))
    pts = np.vstack([pts, rng.uniform(0, side, (n_uni, 2))])
    return np.clip(pts, 0, side)


def clustered_instance(n_demand: int, n_candidates: int, *, per_demand: float = 12.0,
                       n_clusters: int = 20, side: float = 50_000.0, seed: int = 0) -> Instance:
    """A clustered instance whose radius gives about ``per_demand`` candidates per demand point.

    Demand and candidates share cluster centres (towns) plus a uniform rural share, as in
    real counties. The radius is found by bisection on the mean number of candidates within it.
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.1 * side, 0.9 * side, (n_clusters, 2))
    spread = side / 20
    dem = _clustered_points(rng, n_demand, centres, spread, side, 0.2)
    cand = _clustered_points(rng, n_candidates, centres, spread, side, 0.3)
    weights = rng.lognormal(6.0, 1.0, n_demand).round().astype(np.int64) + 1
    costs = rng.integers(1, 6, n_candidates).astype(float)
    k = int(min(n_candidates, max(4 * per_demand, 50)))
    dist, _ = cKDTree(cand).query(dem, k=k)
    dist = np.atleast_2d(dist)
    lo, hi = 0.0, float(dist.max())
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if (dist <= mid).sum(axis=1).mean() < per_demand:
            lo = mid
        else:
            hi = mid
    radius = hi
    return Instance(dem, cand, weights, costs, radius, cover_within(dem, cand, radius))
