"""Metres, in one place: the local metric CRS, bounding boxes padded in metres, simplification
in metres.

Metric work happens in one projected CRS (the local UTM zone, WGS-84 datum) chosen by one rule:
the zone of the *median* point (a few far-off points do not move it). WGS-84 degrees stay at
the edges (input tables, the published map); nothing pads or simplifies in degrees.
"""

from __future__ import annotations

import functools
from typing import TypeVar

import numpy as np
import pyproj
import shapely

__all__ = ["utm_crs", "local_metric_crs", "pad_bbox", "simplify_lonlat", "BBox"]

#: ``(west, south, east, north)`` in degrees.
BBox = tuple[float, float, float, float]
_G = TypeVar("_G", np.ndarray, shapely.Geometry)


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone (WGS-84 datum) of one point, as ``"EPSG:326zz"`` / ``"EPSG:327zz"``."""
    zone = int(np.floor((lon + 180) / 6)) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def local_metric_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    """The local metric CRS of a set of points: the UTM zone of their median point."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise ValueError("Expected at least one finite lon/lat point to choose a CRS.")
    return utm_crs(float(np.median(lon[ok])), float(np.median(lat[ok])))


@functools.lru_cache(maxsize=16)
def _to_metric(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def pad_bbox(bbox: BBox, metres: float, *, crs: str | None = None) -> BBox:
    """A lon/lat bounding box grown by ``metres`` on every side (measured in metres).

    The box goes to the local metric CRS (``crs``, default :func:`local_metric_crs` of its
    centre), is padded there and comes back as the lon/lat box that encloses the result.
    """
    w, s, e, n = (float(v) for v in bbox)
    crs = crs or local_metric_crs(np.array([w, e]), np.array([s, n]))
    tf = _to_metric(crs)
    x0, y0, x1, y1 = tf.transform_bounds(w, s, e, n, densify_pts=21)
    out = tf.transform_bounds(x0 - metres, y0 - metres, x1 + metres, y1 + metres,
                              densify_pts=21, direction=pyproj.enums.TransformDirection.INVERSE)
    return (float(out[0]), float(out[1]), float(out[2]), float(out[3]))


def simplify_lonlat(geoms: _G, tolerance_m: float, *, preserve_topology: bool = True,
                    crs: str | None = None) -> _G:
    """Douglas–Peucker in metres on lon/lat geometries; returns lon/lat geometries.

    The geometries go to the local metric CRS (``crs``, default the zone of their bounds'
    centre), are simplified there and come back; ``tolerance_m <= 0`` returns them unchanged.
    """
    if tolerance_m <= 0:
        return geoms
    arr = np.asarray(geoms)
    if arr.size == 0:
        return geoms
    if crs is None:
        w, s, e, n = shapely.total_bounds(arr)
        if not np.isfinite([w, s, e, n]).all():
            return geoms  # only empty geometries
        crs = local_metric_crs(np.array([w, e]), np.array([s, n]))
    fwd = _to_metric(crs)

    def there(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))

    def back(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(fwd.transform(xy[:, 0], xy[:, 1],
                                             direction=pyproj.enums.TransformDirection.INVERSE))

    metric = shapely.transform(geoms, there)  # shapely keeps a scalar a scalar
    simple = shapely.simplify(metric, tolerance_m, preserve_topology=preserve_topology)
    return shapely.transform(simple, back)
