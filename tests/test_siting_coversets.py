"""Cover sets: sparse matrices from bounded Dijkstra equal a brute-force all-pairs computation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from gis.siting.coversets import cover_matrix, cover_matrix_plain, network_cover_sets


def hand_graph(seed: int, n: int = 40) -> sp.csr_matrix:
    """A small directed graph with one-way edges, a zero-time edge and isolated nodes."""
    rng = np.random.default_rng(seed)
    a = (rng.random((n, n)) < 0.08) * rng.uniform(5, 60, (n, n))
    a[0, 1] = 0.0
    g = sp.csr_matrix(a)
    g = sp.csr_matrix((np.append(g.data, 0.0), (np.append(g.nonzero()[0], 0),
                                                 np.append(g.nonzero()[1], 1))), shape=(n, n))
    return g


@pytest.mark.parametrize("prune", [True, False])
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_cover_matrix_equals_all_pairs(seed, workers, prune):
    """Pattern and seconds equal all-pairs Dijkstra + offsets, incl. shared nodes and zeros."""
    g = hand_graph(seed)
    n = g.shape[0]
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, 15)
    src[1] = src[0]  # two candidates on one node
    off = rng.uniform(0, 15, 15)
    off[0] = 0.0
    tgt = rng.integers(0, n, 30)
    tgt[2] = src[0]  # a demand point on a candidate's node: time = its offset (may be 0)
    bud = rng.uniform(0, 120, 30)
    bud[3] = -1.0  # nothing fits
    gt = sp.csr_matrix(g.T)
    m = cover_matrix(gt, src, off, tgt, bud, chunk_size=4, workers=workers, prune=prune)
    full = dijkstra(g, indices=np.arange(n))  # full[i, j] = time i -> j
    want = full[np.ix_(tgt, src)] + off[None, :]
    ok = want <= bud[:, None]
    got = np.zeros_like(ok)
    coo = m.tocoo()
    got[coo.row, coo.col] = True
    assert (got == ok).all()
    assert np.allclose(m.toarray()[ok], want[ok])
    assert m.shape == (30, 15)


def test_plain_reference_agrees():
    """The plain chunked baseline equals the fast path with a common budget and no offsets."""
    g = hand_graph(5)
    gt = sp.csr_matrix(g.T)
    src, tgt = np.arange(0, 40, 3), np.arange(1, 40, 2)
    a = cover_matrix_plain(gt, src, tgt, 70.0, chunk_size=3)
    b = cover_matrix(gt, src, np.zeros(len(src)), tgt, np.full(len(tgt), 70.0), workers=1)
    assert (abs(a - b) > 1e-9).nnz == 0 and a.nnz == b.nnz


def test_empty_inputs_give_empty_matrix():
    """No candidates or no budget: an all-empty matrix of the right shape."""
    gt = sp.csr_matrix(hand_graph(1).T)
    assert cover_matrix(gt, [], [], [1, 2], [10.0, 10.0]).shape == (2, 0)
    assert cover_matrix(gt, [0], [0.0], [1, 2], [-1.0, -1.0]).nnz == 0


def test_network_cover_sets_each_point_by_its_own_circle():
    """On a synthetic network: urban/walk and rural/ebike points judged by their own circle."""
    synthetic = pytest.importorskip("gis.synthetic")
    net = synthetic.grid_network(900, seed=1)
    rng = np.random.default_rng(2)
    k = rng.choice(net.n_nodes, 60, replace=False)
    dlon, dlat = net.lon[k] + 1e-4, net.lat[k]
    minutes = np.where(np.arange(60) % 2 == 0, 5.0, 8.0)
    modes = np.where(np.arange(60) % 2 == 0, "walk", "ebike").astype(object)
    c = rng.choice(net.n_nodes, 12, replace=False)
    clon, clat = net.lon[c], net.lat[c] + 1e-4
    cs = network_cover_sets(net, dlon, dlat, minutes, modes, clon, clat, workers=1)
    for mode in ("walk", "ebike"):
        sel = np.flatnonzero(modes == mode)
        ds = net.snap(dlon[sel], dlat[sel], mode=mode)
        cn = net.snap(clon, clat, mode=mode)
        full = net.matrix(ds.node, cn.node, mode=mode)
        t = ds.access_s[:, None] + full + cn.access_s[None, :]
        ok = np.round(t / 60, 2) <= minutes[sel][:, None]
        got = cs.times[sel].toarray() > 0
        got |= np.zeros_like(got)
        pattern = np.zeros_like(ok)
        coo = sp.coo_array(cs.times[sel])
        pattern[coo.row, coo.col] = True
        assert (pattern == ok).all()
        assert np.allclose(cs.times[sel].toarray()[ok], t[ok])
    assert cs.reachable.all()


def test_cover_sets_agree_with_coverage_on_the_bundled_region(chengdu):
    """Existing outlets' cover sets mark exactly the points gis.coverage calls covered."""
    from gis.coverage import coverage_of_region
    from gis.siting.plan import _demand_circles

    reg = chengdu
    minutes, modes = _demand_circles(reg)
    d, o = reg.demand, reg.outlets
    cs = network_cover_sets(reg.network, d["lon"].to_numpy(), d["lat"].to_numpy(), minutes,
                            modes, o["lon"].to_numpy(), o["lat"].to_numpy(),
                            max_snap_m=reg.settings.max_snap_m)
    ours = np.diff(cs.times.indptr) > 0
    theirs = coverage_of_region(reg).points["covered"].to_numpy(dtype=bool)
    assert (ours == theirs).all()
    assert ours.any() and not ours.all()


def test_no_candidate_within_reach_gives_empty_matrix():
    """Candidates no demand point can reach within budget: no Dijkstra runs, empty result."""
    g = sp.csr_matrix((np.array([10.0]), (np.array([0]), np.array([1]))), shape=(4, 4))
    gt = sp.csr_matrix(g.T)
    m = cover_matrix(gt, np.array([3]), np.array([0.0]), np.array([0, 1]), np.array([5.0, 5.0]))
    assert m.shape == (2, 1) and m.nnz == 0
