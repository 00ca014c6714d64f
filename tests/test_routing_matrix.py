"""The network adapter adds access/egress legs, marks unreachable pairs, and keeps to its deadline."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from gis._dijkstra import many_to_many
from routing import matrix as matrix_mod
from routing.deadline import Deadline, TimeLimitReached
from routing.matrix import haversine_m, haversine_matrices, network_matrices
from routing.problem import UNREACHABLE, to_int_matrix


class FakeNetwork:
    """Three nodes on a line 0 -> 1 -> 2 (one-way), each point snaps to node == its index."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def snap(self, lon, lat, *, mode: str):
        self.calls.append(mode)
        lon = np.asarray(lon)
        node = np.rint((lon - 104.0) * 100).astype(int)
        return SimpleNamespace(node=node, distance_m=np.full(len(lon), 10.0),
                               access_s=np.full(len(lon), 5.0 if mode == "walk" else 7.0))

    def matrix(self, origins, destinations, *, mode: str) -> np.ndarray:
        t = {"walk": 100.0, "drive": 10.0}[mode]
        full = np.array([[0, t, 2 * t], [np.inf, 0, t], [np.inf, np.inf, 0]])
        return full[np.ix_(np.asarray(origins), np.asarray(destinations))]


def test_network_matrices_add_access_legs_per_mode() -> None:
    """Door-to-door = access + network + egress; diagonal 0; inf where no path."""
    pts = np.array([[104.00, 30.0], [104.01, 30.0], [104.02, 30.0], [104.01, 30.0]])
    net = FakeNetwork()
    m = network_matrices(net, pts, ["walk", "drive"])
    assert sorted(m) == ["drive", "walk"] and sorted(set(net.calls)) == ["drive", "walk"]
    assert m["walk"][0, 2] == 5 + 200 + 5
    assert m["drive"][0, 1] == 7 + 10 + 7
    assert m["walk"][2, 0] == UNREACHABLE and m["walk"].dtype == np.int32
    assert m["walk"][1, 3] == 10  # same node: access + egress only
    assert (np.diag(m["walk"]) == 0).all()
    ints = to_int_matrix(m["walk"])
    assert ints[2, 0] == UNREACHABLE and ints[0, 2] == 210


def test_network_matrices_search_each_distinct_node_once(monkeypatch) -> None:
    """Repeated stops share one search; chunks of sources cover every distinct node once."""
    monkeypatch.setattr(matrix_mod, "CHUNK", 1)
    pts = np.array([[104.00, 30.0], [104.02, 30.0], [104.00, 30.0], [104.02, 30.0]])
    asked: list[int] = []
    net = FakeNetwork()
    inner = net.matrix

    def counting(origins, destinations, *, mode):
        asked.extend(int(x) for x in origins)
        return inner(origins, destinations, mode=mode)

    net.matrix = counting  # type: ignore[method-assign]
    m = network_matrices(net, pts, ["walk"])
    assert sorted(asked) == [0, 2]
    assert m["walk"][2, 3] == 5 + 200 + 5 and m["walk"][3, 0] == UNREACHABLE


def test_network_matrices_give_up_when_the_deadline_is_past() -> None:
    """A past deadline (given or made active) raises TimeLimitReached before any search."""
    net = FakeNetwork()
    net.matrix = None  # type: ignore[assignment]  # would fail if a search were run
    pts = np.array([[104.00, 30.0], [104.01, 30.0]])
    gone = Deadline(time.monotonic() - 1.0, 5.0)
    with pytest.raises(TimeLimitReached, match="time limit of 5 s reached during the walk"):
        network_matrices(net, pts, ["walk"], deadline=gone)
    with gone.active(), pytest.raises(TimeLimitReached):
        network_matrices(net, pts, ["walk"])
    assert Deadline.current().end == float("inf")  # the block left no deadline behind


def test_network_matrices_stop_between_chunks(monkeypatch) -> None:
    """The deadline passing during the searches stops the rest of the chunks."""
    monkeypatch.setattr(matrix_mod, "CHUNK", 1)
    monkeypatch.setattr(matrix_mod, "THREADS", 1)
    net = FakeNetwork()
    inner = net.matrix
    calls: list[int] = []

    def slow(origins, destinations, *, mode):
        calls.append(1)
        time.sleep(0.3)
        return inner(origins, destinations, mode=mode)

    net.matrix = slow  # type: ignore[method-assign]
    pts = np.array([[104.00, 30.0], [104.01, 30.0], [104.02, 30.0]])
    with pytest.raises(TimeLimitReached):
        network_matrices(net, pts, ["walk"], deadline=Deadline.after(0.1))
    assert len(calls) == 1


def test_compiled_many_to_many_equals_scipy() -> None:
    """The compiled search gives scipy's times, with repeats and unreachable pairs."""
    rng = np.random.default_rng(3)
    n = 300
    u, v = rng.integers(0, n, 900), rng.integers(0, n, 900)
    g = sp.csr_matrix((rng.random(900) * 60, (u, v)), (n, n))
    src = np.array([5, 7, 5, 299, 0])
    tgt = np.array([1, 2, 2, 250, 5, 0])
    want = dijkstra(g, directed=True, indices=src)[:, tgt]
    got = many_to_many(g, src, tgt)
    assert np.isinf(want).any() and np.isfinite(want).any()
    np.testing.assert_array_equal(got, want)


def test_haversine_fallback() -> None:
    """One degree of latitude is ~111 km; walking is slower than driving."""
    d = haversine_m(np.array([[104.0, 30.0]]), np.array([[104.0, 31.0]]))
    assert abs(d[0, 0] - 111_195) < 100
    m = haversine_matrices(np.array([[104.0, 30.0], [104.01, 30.0]]), ["walk", "drive"])
    assert m["walk"][0, 1] > m["drive"][0, 1] > 0
