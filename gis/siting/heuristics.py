"""Fast primal heuristics on sparse cover matrices: greedy and drop-add local search.

They give the MIP a good starting solution (hint) and order chosen sites by what each adds.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["greedy_cover", "local_search", "marginal_order"]


def _pattern(cover: sp.csr_array) -> sp.csc_array:
    return sp.csc_array(sp.csr_array((np.ones(cover.nnz), cover.indices, cover.indptr),
                                     shape=cover.shape))


def _covered_count(pat: sp.csc_array, chosen: np.ndarray) -> np.ndarray:
    x = np.zeros(pat.shape[1])
    x[chosen] = 1.0
    return pat @ x


def greedy_cover(cover: sp.csr_array, weights: np.ndarray, *, p: int | None = None,
                 costs: np.ndarray | None = None, budget: float | None = None,
                 start: np.ndarray | None = None) -> np.ndarray:
    """Greedy maximal covering: repeatedly add the site with the largest gain (per cost).

    Returns the chosen column indices in the order they were added (``start`` first).
    """
    n = cover.shape[1]
    pat = _pattern(cover)
    pat_t = sp.csr_array(pat.T)
    costs = np.ones(n) if costs is None else np.asarray(costs, float)
    chosen = [] if start is None else [int(j) for j in start]
    count = _covered_count(pat, np.asarray(chosen, dtype=np.int64))
    spent = 0.0
    avail = np.ones(n, dtype=bool)
    avail[chosen] = False
    while True:
        if p is not None and len(chosen) - (0 if start is None else len(start)) >= p:
            break
        gain = pat_t @ (weights * (count == 0))
        ok = avail & (gain > 0)
        if budget is not None:
            ok &= spent + costs <= budget + 1e-9
        if not ok.any():
            break
        score = np.where(ok, gain / np.maximum(costs, 1e-9) if budget is not None else gain,
                         -1.0)
        j = int(np.argmax(score))
        chosen.append(j)
        avail[j] = False
        spent += costs[j]
        count += pat[:, [j]].toarray().ravel()
    return np.asarray(chosen, dtype=np.int64)


def local_search(cover: sp.csr_array, weights: np.ndarray, chosen: np.ndarray, *,
                 costs: np.ndarray | None = None, budget: float | None = None,
                 max_rounds: int = 20) -> np.ndarray:
    """Drop-add improvement: drop each chosen site in turn and re-add the best one.

    Keeps a change only when it strictly increases the covered weight (and fits the budget).
    """
    n = cover.shape[1]
    pat = _pattern(cover)
    pat_t = sp.csr_array(pat.T)
    costs = np.ones(n) if costs is None else np.asarray(costs, float)
    cur = list(int(j) for j in chosen)
    count = _covered_count(pat, np.asarray(cur, dtype=np.int64))
    value = float(weights[count > 0].sum())
    for _ in range(max_rounds):
        improved = False
        for pos in range(len(cur)):
            s = cur[pos]
            col = pat[:, [s]].toarray().ravel()
            count -= col
            gain = pat_t @ (weights * (count == 0))
            ok = np.ones(n, dtype=bool)
            ok[cur] = False
            if budget is not None:
                ok &= costs[cur].sum() - costs[s] + costs <= budget + 1e-9
            gain = np.where(ok, gain, -1.0)
            j = int(np.argmax(gain))
            base = float(weights[count > 0].sum())
            if gain[j] > 0 and base + gain[j] > value + 1e-9:
                cur[pos] = j
                count += pat[:, [j]].toarray().ravel()
                value = base + float(gain[j])
                improved = True
            else:
                count += col
        if not improved:
            break
    return np.asarray(cur, dtype=np.int64)


def marginal_order(cover: sp.csr_array, weights: np.ndarray, chosen: np.ndarray,
                   base: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Order ``chosen`` greedily by marginal covered weight on top of ``base`` sites.

    Returns
    -------
    order : ndarray
        ``chosen`` reordered, biggest addition first.
    added : ndarray
        Weight each adds at its turn (sums to the total gain over ``base``).
    """
    pat = _pattern(cover)
    base = np.zeros(0, np.int64) if base is None else np.asarray(base, dtype=np.int64)
    count = _covered_count(pat, base)
    left = [int(j) for j in chosen]
    order, added = [], []
    sub_t = sp.csr_array(pat[:, left].T) if left else None
    alive = np.ones(len(left), dtype=bool)
    while alive.any():
        gain = sub_t @ (weights * (count == 0))
        gain[~alive] = -1.0
        k = int(np.argmax(gain))
        order.append(left[k])
        added.append(float(gain[k]))
        alive[k] = False
        count += pat[:, [left[k]]].toarray().ravel()
    return np.asarray(order, dtype=np.int64), np.asarray(added, dtype=float)
