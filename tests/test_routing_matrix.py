"""The network adapter adds access/egress legs and keeps unreachable pairs as inf."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

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
    assert np.isinf(m["walk"][2, 0])
    assert m["walk"][1, 3] == 10  # same node: access + egress only
    assert (np.diag(m["walk"]) == 0).all()
    ints = to_int_matrix(m["walk"])
    assert ints[2, 0] == UNREACHABLE and ints.dtype == np.int64


def test_haversine_fallback() -> None:
    """One degree of latitude is ~111 km; walking is slower than driving."""
    d = haversine_m(np.array([[104.0, 30.0]]), np.array([[104.0, 31.0]]))
    assert abs(d[0, 0] - 111_195) < 100
    m = haversine_matrices(np.array([[104.0, 30.0], [104.01, 30.0]]), ["walk", "drive"])
    assert m["walk"][0, 1] > m["drive"][0, 1] > 0
