"""Travel-time matrices per mode: the only bridge from a road network to the routing core.

:func:`network_matrices` asks a RoadNetwork-like object (``snap(lon, lat, *, mode)`` and
``matrix(origins, destinations, *, mode)``, see ``docs/dev-contract.md``) for node-to-node seconds
and adds the walking access leg at the origin and the egress leg at the destination. Many stops
snap to the same road node (halls repeat, neighbours share a street), so the network is searched
once per *distinct* node, in chunks of sources run on two threads (the compiled search releases
the GIL), checking the run's :class:`~routing.deadline.Deadline` between chunks; the result is
kept as ``int32`` whole seconds (half the memory of float, what the solver takes anyway).
:func:`haversine_matrices` is the network-free fallback (great-circle distance x detour / speed),
used for synthetic days and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from gis.defaults import FALLBACK_KMH

from .deadline import Deadline
from .problem import UNREACHABLE

__all__ = ["NetworkLike", "network_matrices", "haversine_matrices", "haversine_m", "SPEEDS_KMH",
           "CHUNK", "THREADS"]

log = logging.getLogger(__name__)

#: Default speeds (km/h) for the network-free fallback (:data:`gis.defaults.FALLBACK_KMH`).
SPEEDS_KMH: dict[str, float] = dict(FALLBACK_KMH)
EARTH_M = 6_371_008.8
#: Distinct source nodes searched per call between two looks at the deadline.
CHUNK = 64
#: Threads the chunks run on.
THREADS = 2


class NetworkLike(Protocol):
    """What the adapter needs from ``gis.network.RoadNetwork``."""

    def snap(self, lon: np.ndarray, lat: np.ndarray, *, mode: str) -> Any:  # noqa: D102
        ...

    def matrix(self, origins: np.ndarray, destinations: np.ndarray, *,  # noqa: D102
               mode: str) -> np.ndarray: ...


def _whole_seconds(a: np.ndarray) -> np.ndarray:
    """Float seconds -> int32, ``inf``/``nan`` and anything beyond as :data:`UNREACHABLE`."""
    a = np.asarray(a, dtype=float)
    out = np.full(a.shape, UNREACHABLE, dtype=np.int32)
    ok = np.isfinite(a) & (a < UNREACHABLE)
    out[ok] = np.rint(a[ok])
    return out


def _node_matrix(network: NetworkLike, uniq: np.ndarray, mode: str, deadline: Deadline
                 ) -> np.ndarray:
    """Seconds between distinct nodes, ``(u, u)`` int32, searched in chunks of sources."""
    core = np.empty((len(uniq), len(uniq)), dtype=np.int32)
    chunks = [uniq[i:i + CHUNK] for i in range(0, len(uniq), CHUNK)]

    def one(i: int) -> int:
        deadline.check(f"the {mode} travel-time matrix ({i * CHUNK:,} of {len(uniq):,} nodes)")
        rows = network.matrix(chunks[i], uniq, mode=mode)
        core[i * CHUNK:i * CHUNK + len(chunks[i])] = _whole_seconds(rows)
        return i

    if THREADS > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(one, i) for i in range(len(chunks))]
            try:
                for f in futures:
                    f.result()
            finally:  # on the first error, do not start the chunks still waiting
                for f in futures:
                    f.cancel()
    else:
        for i in range(len(chunks)):
            one(i)
    return core


def network_matrices(network: NetworkLike, lonlat: np.ndarray, modes: Iterable[str], *,
                     deadline: Deadline | None = None) -> dict[str, np.ndarray]:
    """Door-to-door seconds between points, per mode, through a road network.

    Parameters
    ----------
    network
        Object with ``snap`` and ``matrix`` as in the dev contract.
    lonlat
        ``(n, 2)`` WGS-84 lon/lat of the points.
    modes
        Modes to compute.
    deadline
        Give up when it passes (checked between chunks of searches); default the one made
        active by the caller (:meth:`routing.deadline.Deadline.active`), else none.

    Returns
    -------
    dict
        Mode -> ``(n, n)`` ``int32`` whole seconds: access leg + network time + egress leg
        (each rounded), :data:`routing.problem.UNREACHABLE` where the network has no path,
        zero on the diagonal.

    Raises
    ------
    routing.deadline.TimeLimitReached
        When the deadline passes before the matrices are done.
    """
    deadline = deadline or Deadline.current()
    pts = np.asarray(lonlat, dtype=float)
    out: dict[str, np.ndarray] = {}
    for mode in sorted(set(modes)):
        deadline.check(f"the {mode} travel-time matrix")
        s = network.snap(pts[:, 0], pts[:, 1], mode=mode)
        nodes = np.asarray(s.node, dtype=np.int64)
        access = _whole_seconds(np.asarray(s.access_s, dtype=float))
        uniq, inv = np.unique(nodes, return_inverse=True)
        core = _node_matrix(network, uniq, mode, deadline)
        m = core[inv[:, None], inv[None, :]]
        m += access[:, None]  # int32 holds it: 3 x UNREACHABLE < 2**31
        m += access[None, :]
        np.minimum(m, UNREACHABLE, out=m)
        np.fill_diagonal(m, 0)
        bad = int(np.count_nonzero(m == UNREACHABLE))
        if bad:
            log.info("%s: %d of %d point pairs unreachable", mode, bad, m.size)
        log.info("%s: %d points on %d distinct road nodes", mode, len(nodes), len(uniq))
        out[mode] = m
    return out


def haversine_m(lonlat_a: np.ndarray, lonlat_b: np.ndarray) -> np.ndarray:
    """Great-circle metres between every point of ``a`` and every point of ``b``."""
    a = np.radians(np.asarray(lonlat_a, dtype=float))
    b = np.radians(np.asarray(lonlat_b, dtype=float))
    dlon = a[:, None, 0] - b[None, :, 0]
    dlat = a[:, None, 1] - b[None, :, 1]
    coslat = np.cos(a[:, None, 1]) * np.cos(b[None, :, 1])
    h = np.sin(dlat / 2) ** 2 + coslat * np.sin(dlon / 2) ** 2
    return 2 * EARTH_M * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def haversine_matrices(lonlat: np.ndarray, modes: Iterable[str], *, detour: float = 1.3,
                       speeds_kmh: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """Network-free seconds: great-circle metres x ``detour`` / speed, per mode.

    Parameters
    ----------
    lonlat
        ``(n, 2)`` lon/lat.
    modes
        Modes to compute.
    detour
        Ratio of road to straight-line distance.
    speeds_kmh
        Mode -> km/h (defaults :data:`SPEEDS_KMH`).
    """
    speeds = {**SPEEDS_KMH, **(speeds_kmh or {})}
    d = haversine_m(lonlat, lonlat) * detour
    return {m: d / (speeds[m] / 3.6) for m in sorted(set(modes))}
