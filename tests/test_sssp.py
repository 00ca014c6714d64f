"""The compiled nearest-source kernel against scipy's Dijkstra and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from gis._sssp import Adjacency, nearest_sources


def _graph(rng, n, m, *, zero_share=0.0, tiny_share=0.0):
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    w = rng.uniform(1.0, 30.0, m)
    r = rng.random(m)
    w[r < tiny_share] = rng.uniform(1e-6, 1e-2, (r < tiny_share).sum())
    w[r < zero_share] = 0.0
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    # keep the shortest parallel edge (scipy would add duplicates), zeros stay explicit edges
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    g = sp.csr_matrix((w[first], (u[first], v[first])), shape=(n, n))
    g.sort_indices()
    return g


def _reference(g, sources, start, limit=np.inf):
    """scipy Dijkstra from a virtual super-source with an edge of the start time per source."""
    n = g.shape[0]
    coo = g.tocoo()
    rows = np.concatenate([coo.row, np.full(len(sources), n)])
    cols = np.concatenate([coo.col, sources])
    data = np.concatenate([coo.data, start])
    aug = sp.csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
    # csr_matrix sums duplicates; sources are unique here
    d = dijkstra(aug, directed=True, indices=n, limit=limit)
    return d[:n]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("width", [None, 2])
def test_matches_scipy_on_random_graphs(seed, width):
    rng = np.random.default_rng(seed)
    n = 3000
    g = _graph(rng, n, 9000, zero_share=0.03 if seed % 2 else 0.0,
               tiny_share=0.05 if seed % 3 == 0 else 0.0)
    adj = Adjacency.from_csr(g, width=width)
    sources = rng.choice(n, 25, replace=False)
    start = rng.uniform(0, 40, 25) if seed % 2 else np.zeros(25)
    t, which = nearest_sources(adj, sources, start)
    ref = _reference(g, sources, start)
    assert np.array_equal(np.isinf(t), np.isinf(ref))
    ok = np.isfinite(ref)
    np.testing.assert_allclose(t[ok], ref[ok], rtol=0, atol=1e-9)
    assert (which[~ok] == -1).all()
    # the source named for a node really reaches it in that time
    per_source = dijkstra(g, directed=True, indices=sources)
    got = start[which[ok]] + per_source[which[ok], np.flatnonzero(ok)]
    np.testing.assert_allclose(got, t[ok], rtol=0, atol=1e-9)


def test_limit_leaves_far_nodes_unreached():
    rng = np.random.default_rng(7)
    g = _graph(rng, 2000, 6000)
    adj = Adjacency.from_csr(g)
    sources = np.array([0, 1, 2])
    start = np.array([0.0, 5.0, 50.0])
    t, which = nearest_sources(adj, sources, start, limit_s=40.0)
    ref = _reference(g, sources, start, limit=40.0)
    assert np.array_equal(np.isinf(t), np.isinf(ref))
    assert (t[np.isfinite(t)] <= 40.0).all()
    assert (which[np.isinf(t)] == -1).all()
    assert not (which == 2).any()  # starts beyond the limit: never a winner


def test_ties_go_to_the_first_source_given():
    # a path 0 - 1 - 2 - 3 - 4 (both directions, 10 s per edge): node 2 is 20 s from 0 and 4
    u = np.array([0, 1, 1, 2, 2, 3, 3, 4])
    v = np.array([1, 0, 2, 1, 3, 2, 4, 3])
    g = sp.csr_matrix((np.full(8, 10.0), (u, v)), shape=(5, 5))
    adj = Adjacency.from_csr(g)
    t, which = nearest_sources(adj, np.array([4, 0]))
    assert t.tolist() == [0.0, 10.0, 20.0, 10.0, 0.0]
    assert which.tolist() == [1, 1, 0, 0, 0]  # node 2 ties: index 0 (node 4) is first
    t, which = nearest_sources(adj, np.array([0, 4]))
    assert which.tolist() == [0, 0, 0, 1, 1]
    # the same node twice: the cheaper start wins, then the first
    t, which = nearest_sources(adj, np.array([0, 0, 0]), np.array([5.0, 3.0, 3.0]))
    assert which.tolist() == [1] * 5 and t[2] == 23.0


def test_edge_cases():
    g = sp.csr_matrix((3, 3))
    adj = Adjacency.from_csr(g)
    t, which = nearest_sources(adj, np.array([1]))
    assert t.tolist() == [np.inf, 0.0, np.inf] and which.tolist() == [-1, 0, -1]
    t, which = nearest_sources(adj, np.array([], dtype=np.int64))
    assert np.isinf(t).all() and (which == -1).all()
    with pytest.raises(ValueError, match="out of range"):
        nearest_sources(adj, np.array([3]))
    with pytest.raises(ValueError, match="non-negative"):
        nearest_sources(adj, np.array([0]), np.array([-1.0]))
