"""Request-weighted siting: a new outlet handles the items its kind may be given.

With a service-item catalogue (:mod:`gis.items`), a new outlet of kind ``k`` handles the items
whose ``delegable_to`` lists ``k``. Resident ``i`` gains, for item ``j``, when a new outlet
handling ``j`` is within ``i``'s circle and no existing outlet handling ``j`` already is. The
request-weighted gain of a set of new sites is therefore

    Σ_i pop_i · Σ_j (w_j / W) · [j not yet covered at i] · [some open new site of a kind in
    delegable_to(j) covers i]

with ``W = Σ_j w_j`` (the catalogue's total weight): the share of the residents' expected
requests that the new sites bring inside the circle, in people.

Exactness by construction: items whose ``delegable_to`` kinds coincide (among the candidates'
kinds) form a *class* ``c``; a (point, class) pair is one demand row of an ordinary maximal
covering problem, weighted ``pop_i · Σ_{j∈c} w_j [j uncovered at i] / W`` and covered by the
candidates of the class's kinds. The gain above is exactly the covered weight of these rows, so
the unchanged MCLP of :mod:`gis.siting.models` (OR-Tools, reduction, proof of optimality)
solves the weighted problem exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .problem import SitingProblem

__all__ = ["WeightedDemand", "weighted_demand", "added_along"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightedDemand:
    """The weighted siting problem and how its rows map back to points and items.

    Attributes
    ----------
    problem
        A :class:`SitingProblem` over (point, class) rows; required (existing) candidates
        cover nothing in it (what they handle is already in ``covered``).
    point_of_row
        Demand point of each row.
    class_kinds
        Candidate kinds of each class.
    items_of_kind
        Per candidate kind, the indices of the items a new outlet of that kind handles.
    """

    problem: SitingProblem
    point_of_row: np.ndarray
    class_kinds: list[frozenset[str]]
    items_of_kind: dict[str, np.ndarray]


def _pattern(cover: sp.csr_array) -> sp.csr_array:
    c = sp.csr_array(cover)
    return sp.csr_array((np.ones(c.nnz, dtype=np.int8), c.indices, c.indptr), shape=c.shape)


def weighted_demand(cover: sp.csr_array, population: np.ndarray, candidate_kinds: Sequence[str],
                    item_weights: np.ndarray, delegable_to: Sequence[Sequence[str]],
                    covered: np.ndarray, *, costs: np.ndarray | None = None,
                    required: np.ndarray | None = None,
                    forbidden: np.ndarray | None = None,
                    candidate_ids: np.ndarray | None = None) -> WeightedDemand:
    """Build the (point, item class) demand of request-weighted siting.

    Parameters
    ----------
    cover
        ``(n_points, n_candidates)`` sparse; every stored entry (zeros included) covers.
    population
        Residents of each point.
    candidate_kinds
        Kind of each candidate (the kind a new outlet there would be).
    item_weights, delegable_to
        Per catalogue item: its weight and the outlet kinds it may be given.
    covered
        ``(n_points, n_items)`` bool: the item is already within the point's circle at an
        existing outlet that handles it.
    costs, required, forbidden, candidate_ids
        As in :class:`SitingProblem`; required candidates are kept but cover no row.

    Returns
    -------
    WeightedDemand
        Its ``problem.weights`` sum to the most request-weighted people new sites could add.
    """
    pop = np.asarray(population, dtype=float)
    kinds = np.asarray(candidate_kinds, dtype=object)
    w = np.asarray(item_weights, dtype=float)
    cov = np.asarray(covered, dtype=bool)
    n_d, n_c = cover.shape
    if cov.shape != (n_d, len(w)) or len(delegable_to) != len(w) or len(kinds) != n_c:
        raise ValueError("`covered` must be (n_points, n_items); `delegable_to` one per item; "
                         "`candidate_kinds` one per candidate.")
    req = np.zeros(n_c, bool) if required is None else np.asarray(required, bool)
    total_w = float(w.sum())
    present = set(kinds[~req].tolist())
    classes: dict[frozenset[str], list[int]] = {}
    for j, ks in enumerate(delegable_to):
        key = frozenset(ks) & present
        if key and w[j] > 0:
            classes.setdefault(key, []).append(j)
    pat = _pattern(cover)
    blocks, weights, points, class_kinds = [], [], [], []
    for key, js in classes.items():
        share = (~cov[:, js]).astype(float) @ w[js] / total_w if total_w > 0 else np.zeros(n_d)
        rw = pop * share
        rows = np.flatnonzero(rw > 0)
        if len(rows) == 0:
            continue
        colmask = np.isin(kinds, list(key)) & ~req
        block = sp.csr_array(pat[rows] @ sp.diags_array(colmask.astype(np.int8), dtype=np.int8))
        block.eliminate_zeros()
        blocks.append(block)
        weights.append(rw[rows])
        points.append(rows)
        class_kinds.append(key)
    if blocks:
        m = sp.csr_array(sp.vstack(blocks, format="csr"))
        wts, pts = np.concatenate(weights), np.concatenate(points)
    else:
        m, wts, pts = sp.csr_array((0, n_c), dtype=np.int8), np.zeros(0), np.zeros(0, np.int64)
    problem = SitingProblem(m, wts, costs, required=req, forbidden=forbidden,
                            demand_ids=pts, candidate_ids=candidate_ids)
    items_of_kind = {k: np.array([j for j, ks in enumerate(delegable_to) if k in ks], np.int64)
                     for k in sorted(set(kinds.tolist()))}
    log.info("weighted siting: %d item classes, %d (point, class) rows", len(class_kinds),
             len(wts))
    return WeightedDemand(problem, pts, class_kinds, items_of_kind)


def added_along(cover: sp.csr_array, weights: np.ndarray, order: np.ndarray,
                base: np.ndarray) -> np.ndarray:
    """Weight each site of ``order`` adds at its turn, on top of the ``base`` sites."""
    pat = sp.csc_array(_pattern(cover))
    hit = np.zeros(cover.shape[0], dtype=bool)
    for j in np.asarray(base, dtype=np.int64):
        hit[pat.indices[pat.indptr[j]:pat.indptr[j + 1]]] = True
    out = np.zeros(len(order))
    for n, j in enumerate(np.asarray(order, dtype=np.int64)):
        r = pat.indices[pat.indptr[j]:pat.indptr[j + 1]]
        out[n] = float(weights[r][~hit[r]].sum())
        hit[r] = True
    return out
