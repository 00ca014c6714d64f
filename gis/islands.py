"""Islands of the road network, and why a demand point cannot reach any outlet.

The network keeps every connected part of each mode (:meth:`RoadNetwork.parts`). An outlet is a
source on the main network (as before) *and* on the part nearest to it, so a point on an island
is served by the outlets on its island. A demand point takes the faster of its main-network snap
and its nearest-part snap; when neither reaches an outlet, :func:`reasons` says why:

* ``too_far_from_road``: no road of the mode within ``max_snap_m`` (the distance is given);
* ``island_without_outlet``: the roads within reach form an island with no outlet on it (its
  size and the nearest outlet by straight line are given);
* ``no_outlet``: there are no outlets at all.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .network import RoadNetwork
from .rules import snapped

__all__ = ["outlet_sources", "demand_times", "reasons"]


def outlet_sources(network: RoadNetwork, lon: np.ndarray, lat: np.ndarray, *, mode: str,
                   max_snap_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source nodes, their egress seconds and their outlet index (main + nearest part)."""
    main = network.snap(lon, lat, mode=mode)
    anyp = network.snap(lon, lat, mode=mode, islands=True)
    extra = np.flatnonzero((anyp.node != main.node) & (anyp.distance_m <= max_snap_m))
    nodes = np.concatenate([main.node, anyp.node[extra]])
    offsets = np.concatenate([main.access_s, anyp.access_s[extra]])
    owner = np.concatenate([np.arange(len(main.node)), extra])
    return nodes, offsets, owner


def demand_times(network: RoadNetwork, node_s: np.ndarray, which: np.ndarray, lon: np.ndarray,
                 lat: np.ndarray, *, mode: str, max_snap_m: float,
                 owner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seconds, outlet index (-1 none), snap metres and nearest-road metres per demand point.

    ``node_s``/``which`` come from :meth:`RoadNetwork.times_to_nearest` over the sources of
    :func:`outlet_sources`; ``owner`` maps a source to its outlet.
    """
    best_t = np.full(len(lon), np.inf)
    best_o = np.full(len(lon), -1, dtype=np.int64)
    snap_m = np.full(len(lon), np.nan)
    nearest_m = np.full(len(lon), np.inf)
    for islands in (False, True):
        s = network.snap(lon, lat, mode=mode, islands=islands)
        t = s.access_s + node_s[s.node]
        t[~snapped(s.distance_m, max_snap_m)] = np.inf
        better = t < best_t
        best_t[better] = t[better]
        best_o[better] = owner[which[s.node[better]]]
        snap_m[better] = s.distance_m[better]
        nearest_m = np.minimum(nearest_m, s.distance_m)
    snap_m = np.where(np.isfinite(best_t), snap_m, nearest_m)
    return best_t, best_o, snap_m, nearest_m


def reasons(network: RoadNetwork, lon: np.ndarray, lat: np.ndarray, reachable: np.ndarray,
            nearest_m: np.ndarray, *, mode: str, max_snap_m: float, outlet_lon: np.ndarray,
            outlet_lat: np.ndarray, outlet_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(reason code, detail)`` per point; empty strings for reachable points."""
    code = np.full(len(lon), "", dtype=object)
    detail = np.full(len(lon), "", dtype=object)
    bad = np.flatnonzero(~reachable)
    if len(bad) == 0:
        return code, detail
    if len(outlet_lon) == 0:
        code[bad] = "no_outlet"
        detail[bad] = "the region has no outlets"
        return code, detail
    px, py = network.project(lon[bad], lat[bad])
    ox, oy = network.project(outlet_lon, outlet_lat)
    dist, k = cKDTree(np.column_stack([ox, oy])).query(np.column_stack([px, py]))
    near = [f"nearest outlet {outlet_ids[j]} at {m / 1000:.1f} km in a straight line"
            for m, j in zip(dist, k, strict=True)]
    far = nearest_m[bad] > max_snap_m
    code[bad[far]] = "too_far_from_road"
    for i in np.flatnonzero(far):
        detail[bad[i]] = (f"{nearest_m[bad[i]]:,.0f} m to the nearest {mode} road "
                          f"(limit network.max_snap_m = {max_snap_m:,.0f} m); {near[i]}")
    isl = np.flatnonzero(~far)
    if len(isl):
        parts = network.parts(mode)
        u, _, _, length = network.edges(mode)
        part_m = np.bincount(parts[u], weights=length, minlength=parts.max() + 1) / 2
        part_n = np.bincount(parts[parts >= 0], minlength=parts.max() + 1)
        s = network.snap(lon[bad[isl]], lat[bad[isl]], mode=mode, islands=True)
        for i, node in zip(isl, s.node, strict=True):
            p = parts[node]
            code[bad[i]] = "island_without_outlet"
            detail[bad[i]] = (f"the roads within reach are a separate part of the {mode} "
                              f"network ({part_n[p]} nodes, {part_m[p] / 1000:.1f} km of road) "
                              f"with no outlet on it; {near[i]}")
    return code, detail
