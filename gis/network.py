"""The road network as arrays: per-mode travel-time CSR matrices, snapping, nearest-outlet times.

Built once from OSM through osmnx (see :mod:`gis.osmread`), then frozen. Every mode (walk,
e-bike, drive) is a ``scipy.sparse.csr_matrix`` of travel seconds over one shared node index,
over every strongly connected part of that mode (the largest is the main network; the others
are islands, see :meth:`RoadNetwork.parts`), with its transpose kept beside it.
A built network is cached on disk as ``.npz`` arrays keyed by the input file's hash, so a second
run skips the OSM parse (loading a saved CSR takes milliseconds; GraphML takes minutes).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ._dijkstra import many_to_many
from ._zorder import zorder_argsort
from .crs import _to_metric, local_metric_crs, utm_crs
from .defaults import DRIVE_FACTOR, DRIVE_KMH, DRIVE_KMH_OTHER, EBIKE_KMH, MODES, WALK_KMH
from .errors import InputError, InputProblem, NetworkError
from .netcache import cache_file, load_network_parts, save_network

if TYPE_CHECKING:
    from ._sssp import Adjacency

__all__ = ["Speeds", "Snap", "RoadNetwork", "MODES", "utm_crs", "DRIVE_KMH"]

log = logging.getLogger(__name__)


#: An edge list: ``(u, v, seconds, length_m)`` arrays.
Edges = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_WALK_EXCLUDE = {"motorway", "motorway_link", "construction",
                 "proposed", "abandoned", "platform", "raceway", "bus_guideway", "escape"}
_EBIKE_EXCLUDE = _WALK_EXCLUDE | {"steps", "corridor", "elevator"}


@dataclass(frozen=True)
class Speeds:
    """Fixed travel speeds (km/h) for the modes that do not follow road speed limits."""

    walk_kmh: float = WALK_KMH
    ebike_kmh: float = EBIKE_KMH
    drive_factor: float = DRIVE_FACTOR  # multiplies highway-class/maxspeed speeds (e.g. 0.7 for congestion)

    def __post_init__(self) -> None:
        if not 0.5 <= self.walk_kmh <= 10:
            raise ValueError(f"Expected walk_kmh in [0.5, 10], got {self.walk_kmh}.")
        if not 3 <= self.ebike_kmh <= 40:
            raise ValueError(f"Expected ebike_kmh in [3, 40], got {self.ebike_kmh}.")
        if not 0.1 <= self.drive_factor <= 2:
            raise ValueError(f"Expected drive_factor in [0.1, 2], got {self.drive_factor}.")

    @property
    def walk_ms(self) -> float:
        """Walking speed in metres per second (used for access and egress legs)."""
        return self.walk_kmh / 3.6


@dataclass(frozen=True)
class Snap:
    """Where points join a mode's network: node index, straight-line distance, walking time."""

    node: np.ndarray
    distance_m: np.ndarray
    access_s: np.ndarray


def _parse_maxspeed(value: object) -> float:
    if value is None:
        return np.nan
    if isinstance(value, list):
        vals = [_parse_maxspeed(v) for v in value]
        vals = [v for v in vals if np.isfinite(v)]
        return float(np.mean(vals)) if vals else np.nan
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", str(value))
    if not m:
        return np.nan
    v = float(m.group(1))
    return v * 1.609344 if m.group(2) else v


def _first(value: object) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def _mode_masks(hw: np.ndarray, tags: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    access = tags["access"]
    foot, bicycle = tags["foot"], tags["bicycle"]
    motor = np.where(tags["motor_vehicle"] != "", tags["motor_vehicle"], tags["motorcar"])
    private = np.isin(access, ["no", "private"])
    walk = ~np.isin(hw, list(_WALK_EXCLUDE)) & ~(foot == "no") & (~private | (foot == "yes"))
    ebike = (~np.isin(hw, list(_EBIKE_EXCLUDE)) & ~(bicycle == "no")
             & (~private | (bicycle == "yes")))
    drive = np.isin(hw, list(DRIVE_KMH)) & ~private & ~np.isin(motor, ["no", "private"])
    drive &= ~(hw == "track")
    return {"walk": walk, "ebike": ebike, "drive": drive}


def _csr_min(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR from an edge list keeping the *shortest* of parallel edges (scipy would add them)."""
    if len(u) == 0:
        return sp.csr_matrix((n, n))
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    key = u.astype(np.int64) * n + v
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    u, v, w = u[first], v[first], w[first]
    m = sp.csr_matrix((np.maximum(w, 1e-3), (u, v)), shape=(n, n))
    m.sort_indices()
    return m


def _components(g: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The largest strongly connected part (mask) and every part's label (-1: no part).

    Every strongly connected part of two or more nodes is kept, numbered by size (0 is the
    largest, the "main" network); a node that is its own part (a one-way dead end) gets -1.
    """
    n = g.shape[0]
    if g.nnz == 0:
        return np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64)
    _, labels = connected_components(g, directed=True, connection="strong")
    has_edge = np.diff(g.indptr) > 0
    counts = np.bincount(labels[has_edge], minlength=labels.max() + 1)
    sizes = np.bincount(labels, minlength=labels.max() + 1)
    counts[sizes < 2] = 0
    rank = np.empty(len(counts), dtype=np.int64)
    order = np.argsort(-counts, kind="stable")
    rank[order] = np.arange(len(counts))
    out = np.where(counts[labels] > 0, rank[labels], -1)
    return out == 0, out


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """Per-mode road graphs as scipy CSR travel-time matrices over one shared node index.

    Build with :meth:`from_osm_file`, :meth:`from_graph` or :meth:`from_edges`; see
    ``docs/dev-contract.md`` for the members other packages rely on.
    """

    crs: str
    node_osmid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    speeds: Speeds
    _edges: Mapping[str, Edges] = field(repr=False)
    _graphs: dict[str, sp.csr_matrix] = field(repr=False)
    _graphs_T: dict[str, sp.csr_matrix] = field(repr=False)
    _masks: dict[str, np.ndarray] = field(repr=False)
    _labels: dict[str, np.ndarray] = field(repr=False)
    # lazily filled caches (the dicts are set once; their entries are built on first use)
    _trees: dict[str, tuple[cKDTree, np.ndarray]] = field(default_factory=dict, repr=False)
    _adjacency_T: dict[str, Adjacency] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- construction
    @classmethod
    def _assemble(cls, *, crs: str, node_osmid: np.ndarray, x: np.ndarray, y: np.ndarray,
                  lon: np.ndarray, lat: np.ndarray, speeds: Speeds,
                  edges: dict[str, Edges]) -> RoadNetwork:
        """The one constructor: every strongly connected part of each mode is kept (the largest
        is the main network, the others islands that serve their own points).

        Every field is computed here and set once; the instance is never rewritten.
        """
        n = len(node_osmid)
        kept: dict[str, Edges] = {}
        graphs: dict[str, sp.csr_matrix] = {}
        graphs_t: dict[str, sp.csr_matrix] = {}
        masks: dict[str, np.ndarray] = {}
        labels_of: dict[str, np.ndarray] = {}
        for mode, (u, v, sec, length) in edges.items():
            g = _csr_min(u, v, sec, n)
            keep, labels = _components(g)  # every part is kept: islands serve their own
            ok = (labels[u] >= 0) & (labels[u] == labels[v])
            if not ok.all():
                u, v, sec, length = u[ok], v[ok], sec[ok], length[ok]
                g = _csr_min(u, v, sec, n)
            kept[mode] = (u, v, sec, length)
            graphs[mode] = g
            graphs_t[mode] = g.T.tocsr()
            masks[mode] = keep
            labels_of[mode] = labels
        return cls(crs=crs, node_osmid=node_osmid, x=x, y=y, lon=lon, lat=lat, speeds=speeds,
                   _edges=kept, _graphs=graphs, _graphs_T=graphs_t, _masks=masks,
                   _labels=labels_of)

    @classmethod
    def from_edges(cls, *, lon: np.ndarray, lat: np.ndarray,
                   edges: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                   speeds: Speeds | None = None, node_osmid: np.ndarray | None = None,
                   crs: str | None = None, x: np.ndarray | None = None,
                   y: np.ndarray | None = None) -> RoadNetwork:
        """Build from arrays: per mode ``(u, v, seconds)`` node-index edge lists (directed).

        Lengths are the straight distances between the nodes in the projected CRS.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        crs = crs or local_metric_crs(lon, lat)
        if x is None or y is None:
            x, y = _to_metric(crs).transform(lon, lat)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        full: dict[str, Edges] = {}
        for mode, (u, v, sec) in edges.items():
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}: expected one of {MODES}")
            u = np.asarray(u, dtype=np.int64)
            v = np.asarray(v, dtype=np.int64)
            length = np.hypot(x[u] - x[v], y[u] - y[v])
            full[mode] = (u, v, np.asarray(sec, dtype=float), length)
        ids = np.arange(len(lon)) if node_osmid is None else np.asarray(node_osmid)
        return cls._assemble(crs=crs, node_osmid=ids, x=x, y=y, lon=lon, lat=lat,
                             speeds=speeds or Speeds(), edges=full)

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph, *, speeds: Speeds | None = None) -> RoadNetwork:
        """Build from an unprojected osmnx MultiDiGraph (one pass over its edges)."""
        speeds = speeds or Speeds()
        nodes = list(G.nodes)
        if not nodes:
            raise NetworkError("the road graph has no nodes")
        index = {nid: i for i, nid in enumerate(nodes)}
        lon = np.fromiter((G.nodes[n]["x"] for n in nodes), float, len(nodes))
        lat = np.fromiter((G.nodes[n]["y"] for n in nodes), float, len(nodes))
        m = G.number_of_edges()
        u = np.empty(m, np.int64)
        v = np.empty(m, np.int64)
        length = np.empty(m, float)
        maxspeed = np.empty(m, float)
        hw = np.empty(m, dtype=object)
        tagnames = ("access", "foot", "bicycle", "motor_vehicle", "motorcar",
                    "bianmin_walk", "bianmin_ebike", "bianmin_drive")  # local roads' own modes
        own_kmh = np.full(m, np.nan)
        tags = {t: np.empty(m, dtype=object) for t in tagnames}
        for k, (a, b, d) in enumerate(G.edges(data=True)):
            u[k] = index[a]
            v[k] = index[b]
            length[k] = d.get("length", np.nan)
            maxspeed[k] = _parse_maxspeed(d.get("maxspeed"))
            hw[k] = _first(d.get("highway"))
            for t in tagnames:
                tags[t][k] = _first(d.get(t))
            if "bianmin_speed_kmh" in d:
                own_kmh[k] = float(d["bianmin_speed_kmh"])
        hw = hw.astype(str)
        tags = {t: a.astype(str) for t, a in tags.items()}
        crs = local_metric_crs(lon, lat)
        x, y = _to_metric(crs).transform(lon, lat)
        bad = ~np.isfinite(length)
        length[bad] = np.hypot(x[u[bad]] - x[v[bad]], y[u[bad]] - y[v[bad]])
        masks = _mode_masks(hw, tags)
        for mode in MODES:  # a local road's walk/ebike/drive column wins over its class
            own = tags[f"bianmin_{mode}"]
            masks[mode] = np.where(own == "", masks[mode], own == "yes")
        drive_kmh = np.array([DRIVE_KMH.get(h, DRIVE_KMH_OTHER) for h in hw])
        drive_kmh = np.where(np.isfinite(maxspeed) & (maxspeed > 0),
                             np.minimum(maxspeed, drive_kmh * 1.5), drive_kmh)
        drive_kmh = np.where(np.isfinite(own_kmh), own_kmh, drive_kmh)
        drive_kmh = drive_kmh * speeds.drive_factor
        edges: dict[str, Edges] = {}
        for mode, kmh in (("walk", speeds.walk_kmh), ("ebike", speeds.ebike_kmh),
                          ("drive", drive_kmh)):
            mk = masks[mode]
            eu, ev, el = u[mk], v[mk], length[mk]
            sec = el / (np.asarray(kmh)[mk] if np.ndim(kmh) else kmh) * 3.6
            if mode != "drive":  # people on foot or e-bike use a way in both directions
                eu, ev = np.concatenate([eu, ev]), np.concatenate([ev, eu])
                el, sec = np.concatenate([el, el]), np.concatenate([sec, sec])
            edges[mode] = (eu, ev, sec, el)
        ids = np.array(nodes, dtype=np.int64)
        return cls._assemble(crs=crs, node_osmid=ids, x=np.asarray(x), y=np.asarray(y),
                             lon=lon, lat=lat, speeds=speeds, edges=edges)

    @classmethod
    def from_osm_file(cls, path: str | os.PathLike, *, speeds: Speeds | None = None,
                      cache_dir: str | os.PathLike | None = None,
                      extra_roads: str | os.PathLike | None = None) -> RoadNetwork:
        """Build from an OSM extract (.osm, .osm.bz2, .osm.pbf) or a GraphML file, cached.

        ``extra_roads``: a file of local roads joined to the OSM ones (:mod:`gis.extra_roads`).
        The cache key is the SHA-256 of the file(s) plus the speeds; the cache lives in
        ``cache_dir`` (default ``$BIANMIN_CACHE`` or ``~/.cache/bianmin``).
        """
        path = Path(path)
        speeds = speeds or Speeds()
        if not path.exists():
            raise InputError(InputProblem(str(path), None, None, "road file not found"))
        extra = None
        if extra_roads is not None:
            from .extra_roads import read_extra_roads

            extra = read_extra_roads(extra_roads)  # checked before any cache is trusted
        cfile = cache_file(path, (speeds.walk_kmh, speeds.ebike_kmh, speeds.drive_factor),
                           extra_roads=None if extra_roads is None else Path(extra_roads),
                           cache_dir=cache_dir)
        if cfile.exists():
            try:
                net = cls.load(cfile)
                log.info("road network loaded from cache %s", cfile)
                return net
            except Exception as exc:  # a broken cache is rebuilt, never trusted
                log.warning("ignoring unreadable network cache %s: %s", cfile, exc)
        if path.suffix.lower() == ".graphml":
            import osmnx as ox

            try:
                G = ox.load_graphml(path)
            except Exception as exc:
                raise InputError(InputProblem(str(path), None, None,
                                         f"cannot read GraphML: {exc}")) from exc
        else:
            from .osmread import graph_from_osm_file

            G = graph_from_osm_file(path)
        if extra is not None:
            from .extra_roads import add_extra_roads

            G = add_extra_roads(G, extra)
        net = cls.from_graph(G, speeds=speeds)
        try:
            net.save(cfile)
        except OSError as exc:
            log.warning("could not write the network cache %s: %s", cfile, exc)
        return net

    @classmethod
    def from_place(cls, query: str, *, speeds: Speeds | None = None) -> RoadNetwork:
        """Download a named place's roads with osmnx (needs the internet), e.g. "成华区, 成都市"."""
        from .osmread import graph_from_place

        return cls.from_graph(graph_from_place(query), speeds=speeds)

    @classmethod
    def from_bbox(cls, bbox: tuple[float, float, float, float], *,
                  speeds: Speeds | None = None) -> RoadNetwork:
        """Download the roads inside (west, south, east, north) with osmnx (needs the internet)."""
        from .osmread import graph_from_bbox

        return cls.from_graph(graph_from_bbox(bbox), speeds=speeds)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> None:
        """Save the arrays as one ``.npz`` (written to a temp file, then renamed)."""
        save_network(self, self._edges, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> RoadNetwork:
        """Load a network saved by :meth:`save`."""
        parts = load_network_parts(path)
        parts["speeds"] = Speeds(*parts["speeds"])
        return cls._assemble(**parts)

    # ---------------------------------------------------------------- queries
    @property
    def modes(self) -> tuple[str, ...]:
        """The modes this network has edges for."""
        return tuple(m for m in MODES if m in self._graphs and self._graphs[m].nnz > 0)

    @property
    def n_nodes(self) -> int:
        """Number of nodes in the shared index."""
        return len(self.node_osmid)

    def _check_mode(self, mode: str) -> None:
        if mode not in self.modes:
            raise NetworkError(f"the network has no {mode!r} edges; it has {self.modes}")

    def graph(self, mode: str) -> sp.csr_matrix:
        """Travel seconds, row = from node, column = to node."""
        self._check_mode(mode)
        return self._graphs[mode]

    def graph_T(self, mode: str) -> sp.csr_matrix:
        """The transpose of :meth:`graph`, as CSR."""
        self._check_mode(mode)
        return self._graphs_T[mode]

    def nodes_in(self, mode: str) -> np.ndarray:
        """Boolean mask of the nodes in the mode's main network (its largest connected part)."""
        self._check_mode(mode)
        return self._masks[mode]

    def parts(self, mode: str) -> np.ndarray:
        """Each node's strongly connected part in the mode (0 = main, 1, 2 … islands; -1 none)."""
        self._check_mode(mode)
        return self._labels[mode]

    def edges(self, mode: str) -> Edges:
        """``(u, v, seconds, length_m)`` of the mode's edges (straight segments)."""
        self._check_mode(mode)
        return self._edges[mode]

    def project(self, lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 degrees → this network's projected metres."""
        tf = _to_metric(self.crs)
        x, y = tf.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x), np.asarray(y)

    def snap(self, lon: ArrayLike, lat: ArrayLike, *, mode: str, islands: bool = False) -> Snap:
        """Nearest node of the mode's main network for each point, with the walking access leg.

        ``islands=True`` snaps to the nearest node of *any* part of the network.
        """
        self._check_mode(mode)
        key = f"{mode}+islands" if islands else mode
        if key not in self._trees:
            idx = np.flatnonzero(self._labels[mode] >= 0 if islands else self._masks[mode])
            self._trees[key] = (cKDTree(np.column_stack([self.x[idx], self.y[idx]])), idx)
        tree, idx = self._trees[key]
        px, py = self.project(np.atleast_1d(lon), np.atleast_1d(lat))
        q = np.column_stack([px, py])
        if len(q) >= 2048:  # query in Z-order: neighbouring queries share tree nodes in cache
            order = zorder_argsort(px, py)
            d, k = np.empty(len(q)), np.empty(len(q), dtype=np.int64)
            d[order], k[order] = tree.query(q[order])
        else:
            d, k = tree.query(q)
        return Snap(node=idx[k], distance_m=d, access_s=d / self.speeds.walk_ms)

    def times_to_nearest(self, sources: ArrayLike, *, mode: str,
                         offsets_s: ArrayLike | None = None,
                         limit_s: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from every node to its nearest source, and that source's index.

        A multi-source shortest-path search on the reversed graph (people travel *to* the
        source), in :mod:`gis._sssp` (bucket queue, compiled; 2-3x scipy's csgraph Dijkstra at
        400k nodes, see docs/benchmarks.md). ``offsets_s`` starts each source at its own time
        (the egress leg from the network to the outlet), exactly. Ties between sources go to
        the first one given. Unreachable nodes (or beyond ``limit_s``) get ``inf`` and ``-1``.
        """
        from ._sssp import nearest_sources  # numba: imported on first use (about a second)

        offsets = None if offsets_s is None else np.asarray(offsets_s, dtype=float)
        return nearest_sources(self.adjacency_T(mode), np.asarray(sources, dtype=np.int64),
                               offsets, limit_s)

    def adjacency_T(self, mode: str) -> Adjacency:
        """The reversed graph in the layout of the nearest-source kernel (built once)."""
        from ._sssp import Adjacency

        self._check_mode(mode)
        if mode not in self._adjacency_T:
            self._adjacency_T[mode] = Adjacency.from_csr(self.graph_T(mode))
        return self._adjacency_T[mode]

    def matrix(self, origins: ArrayLike, destinations: ArrayLike, *, mode: str) -> np.ndarray:
        """Network seconds from each origin node to each destination node (``inf`` if none)."""
        o = np.asarray(origins, dtype=np.int64)
        d = np.asarray(destinations, dtype=np.int64)
        if len(o) == 0 or len(d) == 0:
            return np.zeros((len(o), len(d)))
        # one compiled search per distinct source, writing only the target columns and
        # stopping at the last target (gis/_dijkstra.py); from the side with fewer nodes
        if len(np.unique(o)) <= len(np.unique(d)):
            uo, inv = np.unique(o, return_inverse=True)
            return many_to_many(self.graph(mode), uo, d)[inv]
        ud, inv = np.unique(d, return_inverse=True)
        return many_to_many(self.graph_T(mode), ud, o)[inv].T
