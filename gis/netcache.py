"""The road network on disk: the ``.npz`` format and the build cache keyed by what made it.

A network built from an OSM file is cached as ``network-<key>.npz`` in the cache folder
(``cache_dir`` or ``$BIANMIN_CACHE`` or ``~/.cache/bianmin``). The key is the SHA-256 of the road
file, the extra-roads file (if any), the speeds, :data:`CACHE_VERSION` and the source of the
modules that build networks, so a change in any of them voids the cache. A cache file that
cannot be read is rebuilt, never trusted (:meth:`gis.network.RoadNetwork.from_osm_file`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .io import atomic_path

if TYPE_CHECKING:  # the network module imports this one
    from .network import RoadNetwork

__all__ = ["CACHE_VERSION", "cache_folder", "cache_file", "save_network", "load_network_parts"]

#: Bump when the saved arrays or their meaning change.
CACHE_VERSION = 4
#: Modules whose source is part of the cache key (how networks are built).
_BUILD_SOURCES = ("network.py", "netcache.py", "osmread.py", "extra_roads.py")


def cache_folder(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``cache_dir``, else ``$BIANMIN_CACHE``, else ``~/.cache/bianmin``."""
    return Path(cache_dir or os.environ.get("BIANMIN_CACHE")
                or Path.home() / ".cache" / "bianmin")


def cache_file(road_file: Path, speeds: Sequence[float], *, extra_roads: Path | None = None,
               cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache path of the network built from ``road_file`` (and ``extra_roads``).

    Parameters
    ----------
    road_file
        The OSM extract or GraphML file.
    speeds
        ``(walk_kmh, ebike_kmh, drive_factor)``.
    extra_roads
        A local roads file joined to the OSM ones, if any.
    cache_dir
        The cache folder (see :func:`cache_folder`).
    """
    digest = hashlib.sha256()
    with open(road_file, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if extra_roads is not None:
        digest.update(b"extra_roads")
        digest.update(Path(extra_roads).read_bytes())
    digest.update(json.dumps([CACHE_VERSION, *map(float, speeds)]).encode())
    here = Path(__file__).parent
    for name in _BUILD_SOURCES:
        digest.update((here / name).read_bytes())  # a change in how networks are built
    return cache_folder(cache_dir) / f"network-{digest.hexdigest()[:24]}.npz"


def save_network(net: RoadNetwork, edges: Mapping[str, tuple[np.ndarray, ...]],
                 path: str | os.PathLike[str]) -> None:
    """Save a network's arrays and its ``edges`` (mode → ``(u, v, seconds, metres)``, every
    mode built, also an empty one) as one ``.npz`` (written to a temp file, then renamed).
    """
    arrays: dict[str, np.ndarray] = {
        "node_osmid": net.node_osmid, "x": net.x, "y": net.y, "lon": net.lon,
        "lat": net.lat, "crs": np.array(net.crs),
        "speeds": np.array([net.speeds.walk_kmh, net.speeds.ebike_kmh,
                            net.speeds.drive_factor]),
        "modes": np.array(list(edges)),
    }
    for mode, (u, v, sec, length) in edges.items():
        arrays[f"{mode}_u"] = u.astype(np.int32 if len(net.x) < 2**31 else np.int64)
        arrays[f"{mode}_v"] = v.astype(arrays[f"{mode}_u"].dtype)
        arrays[f"{mode}_s"] = sec.astype(np.float64)
        arrays[f"{mode}_m"] = length.astype(np.float32)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        # numpy's stub fears **arrays could hold ``allow_pickle``; it holds arrays only
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def load_network_parts(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parts saved by :func:`save_network`: ``crs, node_osmid, x, y, lon, lat``,
    ``speeds`` (walk, e-bike, drive factor) and ``edges`` (mode → ``(u, v, seconds, metres)``).
    """
    with np.load(path, allow_pickle=False) as z:
        edges = {str(m): (z[f"{m}_u"].astype(np.int64), z[f"{m}_v"].astype(np.int64),
                          z[f"{m}_s"].astype(float), z[f"{m}_m"].astype(float))
                 for m in z["modes"]}
        return {"crs": str(z["crs"]), "node_osmid": z["node_osmid"], "x": z["x"], "y": z["y"],
                "lon": z["lon"], "lat": z["lat"],
                "speeds": tuple(float(a) for a in z["speeds"]), "edges": edges}
