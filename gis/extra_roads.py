"""Local roads a planner adds to the OSM network (``[files] extra_roads`` in region.toml).

A county transport bureau often has the village roads OSM lacks. Its file (GeoPackage,
GeoJSON or shapefile, in any CRS) holds LineStrings with:

``highway``   an OSM highway class (``unclassified``, ``track``, ``path`` …), deciding the modes
              and the driving speed as for OSM ways; optional when ``speed_kmh`` is given
``speed_kmh`` the driving speed, (0, 130]; optional (the class's speed otherwise)
``oneway``    true/false (blank: false); a one-way road binds driving only, as in OSM
``walk``, ``ebike``, ``drive``  optional true/false: allow or forbid a mode on this road,
              whatever its class (blank: the class decides, as for OSM ways)

Every vertex becomes a node; roads sharing a vertex are joined there. An end of a road joins
the OSM network when it lies within :data:`gis.defaults.EXTRA_ROAD_JOIN_M` of an OSM node (it
is merged with that node) or of an OSM road segment (a connector is drawn to the nearer node of
that segment, which may lie further away). Ends within the tolerance of each other are merged.
"""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .crs import _to_metric, local_metric_crs
from .defaults import EXTRA_ROAD_JOIN_M
from .errors import InputError, InputProblem
from .io import read_table
from .schema import Column, check_table

__all__ = ["EXTRA_ROAD_COLUMNS", "read_extra_roads", "add_extra_roads"]

log = logging.getLogger(__name__)

#: The columns of an extra-roads file (geometry aside).
EXTRA_ROAD_COLUMNS = [
    Column("highway", required=False),
    Column("speed_kmh", "float", required=False, minimum=0, maximum=130,
           exclusive_minimum=True),
    Column("oneway", "bool", required=False),
    Column("walk", "bool", required=False),
    Column("ebike", "bool", required=False),
    Column("drive", "bool", required=False),
]


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() in ("", "nan")


def read_extra_roads(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read and check an extra-roads file; LineStrings in WGS-84, one row per line.

    Raises
    ------
    gis.errors.InputError
        Every problem at once, naming the file, row (data rows from 1) and column.
    """
    file = str(path)
    df = read_table(path)
    if not isinstance(df, gpd.GeoDataFrame) or "geometry" not in df.columns:
        raise InputError(InputProblem(file, None, "geometry", "expected a layer of LineStrings "
                                      "(.gpkg, .geojson or .shp), not a plain table"))
    if df.crs is None:
        raise InputError(InputProblem(file, None, "geometry",
                                      "the layer has no CRS; expected one (any CRS will do)"))
    check = check_table(pd.DataFrame(df.drop(columns="geometry")), file, EXTRA_ROAD_COLUMNS,
                        id_column=None, first_row=1)
    geom = df.geometry.to_crs(4326)
    frame = check.frame
    for i in range(len(df)):
        g = geom.iloc[i]
        if g is None or g.is_empty or g.geom_type not in ("LineString", "MultiLineString"):
            check.add(i, "geometry", "expected a LineString, found "
                      f"{'nothing' if g is None or g.is_empty else g.geom_type}")
        hw = "" if "highway" not in frame or _blank(frame["highway"].iloc[i]) \
            else str(frame["highway"].iloc[i])
        sp = "speed_kmh" in frame and not _blank(frame["speed_kmh"].iloc[i])
        if not hw and not sp and check.ok(i, "speed_kmh"):
            check.add(i, "highway", "expected a highway class (e.g. unclassified, track, path) "
                      "or a speed_kmh")
    check.raise_if_any()
    out = gpd.GeoDataFrame(frame, geometry=geom.values, crs=4326).explode(index_parts=False)
    out["row"] = out.index.to_numpy() + 1
    out = out.reset_index(drop=True)
    out.attrs["file"] = file
    return out


def _tag(value: object) -> str | None:
    if _blank(value):
        return None
    return "yes" if bool(value) else "no"


def _segments(G: nx.MultiDiGraph, tf: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct OSM segment as (u ids, v ids, shapely lines in metres)."""
    pairs = {(a, b) if str(a) < str(b) else (b, a) for a, b in G.edges()}
    u = np.array([p[0] for p in pairs], dtype=object)
    v = np.array([p[1] for p in pairs], dtype=object)
    xy = {n: (d["x"], d["y"]) for n, d in G.nodes(data=True)}
    lon = np.array([[xy[a][0], xy[b][0]] for a, b in pairs])
    lat = np.array([[xy[a][1], xy[b][1]] for a, b in pairs])
    x, y = tf.transform(lon.ravel(), lat.ravel())  # type: ignore[attr-defined]
    coords = np.stack([np.asarray(x).reshape(-1, 2), np.asarray(y).reshape(-1, 2)], axis=-1)
    return u, v, shapely.linestrings(coords)


#: A local road with no point within this distance of any OSM road node is not a road of this
#: region (lon/lat swapped, the wrong CRS, a line from another file).
EXTRA_ROAD_FAR_M = 5000.0


def _check_near(roads: gpd.GeoDataFrame, node_tree: cKDTree, tf: object) -> None:
    """Refuse lines lying wholly farther than :data:`EXTRA_ROAD_FAR_M` from the OSM roads."""
    file = str(roads.attrs.get("file", "extra_roads"))

    def gap(lon: np.ndarray, lat: np.ndarray) -> float:
        x, y = (np.asarray(a) for a in tf.transform(lon, lat))  # type: ignore[attr-defined]
        ok = np.isfinite(x) & np.isfinite(y)
        return float(node_tree.query(np.column_stack([x[ok], y[ok]]))[0].min()) \
            if ok.any() else np.inf

    problems = []
    for k, g in enumerate(roads.geometry):
        c = np.asarray(shapely.get_coordinates(g))
        d = gap(c[:, 0], c[:, 1])
        if d > EXTRA_ROAD_FAR_M:
            hint = ("; lon and lat look swapped" if gap(c[:, 1], c[:, 0]) <= EXTRA_ROAD_FAR_M
                    else "")
            row = int(roads["row"].iloc[k]) if "row" in roads else k + 1
            problems.append(InputProblem(file, row, "geometry", f"the line lies {d / 1000:,.0f} "
                                         "km from the nearest road of the region (more than "
                                         f"{EXTRA_ROAD_FAR_M / 1000:.0f} km){hint}"))
    if problems:
        raise InputError(problems)


def add_extra_roads(G: nx.MultiDiGraph, roads: gpd.GeoDataFrame, *,
                    tolerance_m: float = EXTRA_ROAD_JOIN_M) -> nx.MultiDiGraph:
    """Add local roads to an unprojected osmnx graph (in place, returned), joined to it.

    New nodes get negative ids. Returns ``G``.
    """
    if len(roads) == 0:
        return G
    ids = list(G.nodes)
    glon = np.array([G.nodes[n]["x"] for n in ids])
    glat = np.array([G.nodes[n]["y"] for n in ids])
    rl = np.concatenate([np.asarray(shapely.get_coordinates(g))[:, 0] for g in roads.geometry])
    rb = np.concatenate([np.asarray(shapely.get_coordinates(g))[:, 1] for g in roads.geometry])
    crs = local_metric_crs(np.r_[glon, rl], np.r_[glat, rb])
    tf = _to_metric(crs)
    gx, gy = (np.asarray(a) for a in tf.transform(glon, glat))
    node_tree = cKDTree(np.column_stack([gx, gy])) if len(ids) else None
    seg_u, seg_v, segs = _segments(G, tf) if G.number_of_edges() else (None, None, None)
    seg_tree = shapely.STRtree(segs) if segs is not None else None
    if node_tree is not None:
        _check_near(roads, node_tree, tf)
    pos = {n: i for i, n in enumerate(ids)}
    vertex_id: dict[tuple[float, float], object] = {}  # rounded metres -> node id
    ends: list[tuple[float, float, object]] = []
    next_id = -1
    joined = 0

    def node_at(x: float, y: float, lon: float, lat: float, end: bool,
                attrs: dict[str, object]) -> object:
        nonlocal next_id, joined
        key = (round(x, 2), round(y, 2))
        if key in vertex_id:
            return vertex_id[key]
        if end:
            for ex, ey, nid in ends:  # ends of other local roads within the tolerance
                if np.hypot(ex - x, ey - y) <= tolerance_m:
                    vertex_id[key] = nid
                    return nid
            if node_tree is not None:
                d, k = node_tree.query([x, y])
                if d <= tolerance_m:
                    vertex_id[key] = ids[k]
                    joined += 1
                    return ids[k]
        nid = next_id
        next_id -= 1
        G.add_node(nid, x=float(lon), y=float(lat), street_count=0)
        vertex_id[key] = nid
        if end:
            ends.append((x, y, nid))
            if seg_tree is not None:  # mid-way near an OSM road: connect to its nearer node
                p = shapely.Point(x, y)
                j = seg_tree.query_nearest(p, max_distance=tolerance_m, all_matches=False)
                if len(j):
                    j = int(j[0])
                    cands = [seg_u[j], seg_v[j]]  # type: ignore[index]
                    dist = [np.hypot(gx[pos[c]] - x, gy[pos[c]] - y) for c in cands]
                    target = cands[int(np.argmin(dist))]
                    for a, b in ((nid, target), (target, nid)):
                        G.add_edge(a, b, **{**attrs, "length": float(min(dist)),
                                            "oneway": False})
                    joined += 1
        return nid

    for _, r in roads.iterrows():
        attrs: dict[str, object] = {"highway": r.get("highway") if not _blank(
            r.get("highway")) else "unclassified", "bianmin_extra": True}
        if not _blank(r.get("speed_kmh")):
            attrs["bianmin_speed_kmh"] = float(r["speed_kmh"])
        for mode in ("walk", "ebike", "drive"):
            t = _tag(r.get(mode))
            if t is not None:
                attrs[f"bianmin_{mode}"] = t
        c = np.asarray(shapely.get_coordinates(r.geometry))
        x, y = (np.asarray(a) for a in tf.transform(c[:, 0], c[:, 1]))
        nodes = [node_at(x[i], y[i], c[i, 0], c[i, 1], i in (0, len(c) - 1), attrs)
                 for i in range(len(c))]
        oneway = not _blank(r.get("oneway")) and bool(r["oneway"])
        for i in range(len(nodes) - 1):
            a, b = nodes[i], nodes[i + 1]
            if a == b:
                continue
            length = float(np.hypot(x[i + 1] - x[i], y[i + 1] - y[i]))
            G.add_edge(a, b, length=length, oneway=oneway, **attrs)
            if not oneway:  # one-way binds driving only: walk and e-bike add the reverse
                G.add_edge(b, a, length=length, oneway=False, **attrs)
    log.info("added %d local road lines; %d ends joined to the OSM network", len(roads), joined)
    return G
