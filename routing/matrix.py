"""Travel-time matrices per mode: the only bridge from a road network to the routing core.

:func:`network_matrices` asks a RoadNetwork-like object (``snap(lon, lat, *, mode)`` and
``matrix(origins, destinations, *, mode)``, see ``docs/dev-contract.md``) for node-to-node seconds
and adds the walking access leg at the origin and the egress leg at the destination.
:func:`haversine_matrices` is the network-free fallback (great-circle distance x detour / speed),
used for synthetic days and tests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np

from gis.defaults import FALLBACK_KMH

__all__ = ["NetworkLike", "network_matrices", "haversine_matrices", "haversine_m", "SPEEDS_KMH"]

log = logging.getLogger(__name__)

#: Default speeds (km/h) for the network-free fallback (:data:`gis.defaults.FALLBACK_KMH`).
SPEEDS_KMH: dict[str, float] = dict(FALLBACK_KMH)
EARTH_M = 6_371_008.8


class NetworkLike(Protocol):
    """What the adapter needs from ``gis.network.RoadNetwork``."""

    def snap(self, lon: np.ndarray, lat: np.ndarray, *, mode: str) -> Any:  # noqa: D102
        ...

    def matrix(self, origins: np.ndarray, destinations: np.ndarray, *,  # noqa: D102
               mode: str) -> np.ndarray: ...


def network_matrices(network: NetworkLike, lonlat: np.ndarray, modes: Iterable[str]
                     ) -> dict[str, np.ndarray]:
    """Door-to-door seconds between points, per mode, through a road network.

    Parameters
    ----------
    network
        Object with ``snap`` and ``matrix`` as in the dev contract.
    lonlat
        ``(n, 2)`` WGS-84 lon/lat of the points.
    modes
        Modes to compute.

    Returns
    -------
    dict
        Mode -> ``(n, n)`` float seconds: access leg + network time + egress leg, ``inf`` where
        the network has no path, zero on the diagonal.
    """
    pts = np.asarray(lonlat, dtype=float)
    out: dict[str, np.ndarray] = {}
    for mode in sorted(set(modes)):
        s = network.snap(pts[:, 0], pts[:, 1], mode=mode)
        nodes = np.asarray(s.node, dtype=np.int64)
        access = np.asarray(s.access_s, dtype=float)
        uniq, inv = np.unique(nodes, return_inverse=True)
        core = np.asarray(network.matrix(uniq, uniq, mode=mode), dtype=float)[inv][:, inv]
        m = access[:, None] + core + access[None, :]
        np.fill_diagonal(m, 0.0)
        bad = int((~np.isfinite(m)).sum())
        if bad:
            log.info("%s: %d of %d point pairs unreachable", mode, bad, m.size)
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
