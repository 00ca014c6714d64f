"""Small exact and greedy solvers shared by the delegation model and the province split.

``mckp`` is the exact multiple-choice knapsack over independent coverage curves (delegation's
per-item-group curves, the counties' curves of a province); ``lazy_greedy`` is greedy maximum
coverage with lazy gains (the per-group curve where greedy is provably optimal, and the
baseline).
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp

__all__ = ["lazy_greedy", "mckp"]

_EPS = 1e-9


def mckp(values: list[np.ndarray], K: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact multiple-choice knapsack: item ``n`` takes ``k`` units for ``values[n][k]``.

    Returns the best value for every budget ``0..K`` and, for every budget, the units each
    item takes (a ``(K+1, n)`` array).
    """
    n = len(values)
    best = np.zeros(K + 1)
    choice = np.zeros((n, K + 1), np.int64)
    b = np.arange(K + 1)
    for i, v in enumerate(values):
        kmax = min(len(v) - 1, K)
        cand = np.full((kmax + 1, K + 1), -np.inf)
        for k in range(kmax + 1):
            cand[k, k:] = best[:K + 1 - k] + v[k]
        choice[i] = np.argmax(cand, axis=0)
        best = cand[choice[i], b]
    # walk back the choices for every budget
    picks = np.zeros((K + 1, n), np.int64)
    rem = b.copy()
    for i in range(n - 1, -1, -1):
        picks[:, i] = choice[i, rem]
        rem = rem - picks[:, i]
    return best, picks


def lazy_greedy(a: sp.csc_array, left: np.ndarray,
                 single: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Greedy max coverage with lazy gains: the gain of each pick and the pick order."""
    heap = [(-float(g), int(c)) for c, g in enumerate(single) if g > _EPS]
    heapq.heapify(heap)
    vals, order = [], []
    while heap:
        _, c = heapq.heappop(heap)
        r = a.indices[a.indptr[c]:a.indptr[c + 1]]
        g = float(left[r].sum())
        if g <= _EPS:
            continue
        if heap and g < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-g, c))
            continue
        left[r] = 0.0
        vals.append(g)
        order.append(c)
    return np.array(vals), order
