"""The map's layers as GeoDataFrames, and how they are sent to the page.

Each layer keeps to a fixed list of properties (:data:`LAYER_FIELDS`), a guard against personal
data slipping in. Geometry is simplified for display, shifted to GCJ-02 when the tiles need it
and rounded to 1e-5° (about 1 m); roads travel as Google encoded polylines.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.circles import ServiceCircles
from gis.coords import wgs84_to_gcj02
from gis.coverage import CoverageResult
from gis.crs import simplify_lonlat
from gis.errors import InputError, InputProblem
from gis.region import Region
from gis.siting.maptables import PROPOSAL_COLUMNS, check_proposals

from .style import TEXT, mode_label, rate_colour

__all__ = ["PROPOSAL_COLUMNS", "LAYER_FIELDS", "text", "circle_label", "outlets_layer",
           "areas_layer", "uncovered_layer", "proposals_layer", "roads_layer", "chain_segments",
           "encode_polylines", "transform", "to_geojson"]

#: The only properties each layer may carry (a guard against personal data slipping in).
LAYER_FIELDS: dict[str, list[str]] = {
    "outlets": ["id", "name", "kind", "address", "phone", "hours", "services", "illustrative",
                "circle_label", "minutes", "mode", "population", "new_items"],
    "circles": ["outlet_id", "kind", "minutes", "mode", "population"],
    "circles_by_kind": ["kind", "outlets", "population"],
    "network_circle": ["outlets", "population"],
    "areas": ["id", "name", "urban", "population", "covered_population", "coverage_rate",
              "fill"],
    "uncovered": ["population", "minutes", "circle_label", "area"],
    "proposals": ["site_id", "name", "kind", "added_population", "rank"],
    "roads": ["major"],
}


def text(key: str, lang: str) -> str:
    pair = TEXT[key]
    return pair[0] if lang == "zh" else pair[1]


def circle_label(minutes, mode, lang: str) -> str:
    """A circle as people read it: "15 分钟步行" / "15 min walk"."""
    if minutes is None or minutes != minutes:
        return ""
    if lang == "zh":
        return f"{float(minutes):g} 分钟{mode_label(mode, lang)}"
    return f"{float(minutes):g} min {mode_label(mode, lang)}"


def outlets_layer(region: Region, circles: ServiceCircles, lang: str) -> gpd.GeoDataFrame:
    c = circles.outlets
    det = pd.DataFrame(region.outlets.drop(columns="geometry"))
    det = det.drop_duplicates("id").set_index("id")
    ids = c["outlet_id"].to_numpy()
    lon = det["lon"].reindex(ids).to_numpy(float) if "lon" in det else np.full(len(ids), np.nan)
    lat = det["lat"].reindex(ids).to_numpy(float) if "lat" in det else np.full(len(ids), np.nan)
    miss = ~np.isfinite(lon)
    if miss.any():
        raise InputError(InputProblem("outlets", None, "id",
                                 f"{int(miss.sum())} circle outlet(s) are not in the region's "
                                 f"outlets table, e.g. {ids[miss][0]!r}"))

    def col(name: str) -> np.ndarray:
        if name not in det:
            return np.full(len(ids), "", dtype=object)
        return det[name].reindex(ids).fillna("").astype(str).to_numpy(dtype=object)

    illus = (det["illustrative"].reindex(ids).fillna(False).astype(bool).to_numpy()
             if "illustrative" in det else np.zeros(len(ids), dtype=bool))
    out = gpd.GeoDataFrame({
        "id": ids, "name": c["name"].astype(str).to_numpy(), "kind": c["kind"].to_numpy(),
        "address": col("address"), "phone": col("phone"), "hours": col("hours"),
        "services": col("services"), "illustrative": illus,
        "circle_label": [circle_label(m, md, lang) for m, md in zip(c["minutes"], c["mode"],
                                                                     strict=True)],
        "minutes": c["minutes"].to_numpy(float), "mode": c["mode"].to_numpy(),
        "population": np.round(c["population"].to_numpy(float)),
    }, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    return out


def areas_layer(region: Region, coverage: CoverageResult) -> gpd.GeoDataFrame:
    a = region.areas[["id", "name", "urban", "geometry"]].merge(
        coverage.areas[["area_id", "population", "covered_population", "coverage_rate"]],
        left_on="id", right_on="area_id", how="left").drop(columns="area_id")
    a["fill"] = [rate_colour(float(r)) for r in a["coverage_rate"].fillna(np.nan)]
    return gpd.GeoDataFrame(a, geometry="geometry", crs=4326)


def uncovered_layer(region: Region, coverage: CoverageResult,
                     lang: str) -> gpd.GeoDataFrame:
    pts = coverage.uncovered
    names = dict(zip(region.areas["id"], region.areas["name"], strict=True))
    labels = [circle_label(m, md, lang) for m, md in zip(pts["threshold_minutes"], pts["mode"],
                                                         strict=True)]
    return gpd.GeoDataFrame({
        "population": np.round(pts["population"].to_numpy(float)),
        "minutes": pts["minutes"].to_numpy(float),
        "circle_label": labels,
        "area": [names.get(a, str(a)) for a in pts["area_id"]],
    }, geometry=pts.geometry.to_crs(4326).values, crs=4326)


def proposals_layer(proposals: pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    """Proposed sites as points (checked by :func:`gis.siting.maptables.check_proposals`)."""
    if proposals is None or len(proposals) == 0:
        return None
    p = check_proposals(proposals)
    return gpd.GeoDataFrame({
        "site_id": p["site_id"].astype(str).to_numpy(), "name": p["name"].astype(str).to_numpy(),
        "kind": p["kind"].astype(str).to_numpy(),
        "added_population": p["added_population"].to_numpy(float),
        "rank": p["rank"].to_numpy(),
    }, geometry=gpd.points_from_xy(p["lon"].to_numpy(float), p["lat"].to_numpy(float)), crs=4326)


def chain_segments(a: np.ndarray, b: np.ndarray, lon: np.ndarray,
                   lat: np.ndarray) -> np.ndarray:
    """Join road segments ``a[i]–b[i]`` into long lines, straight on through crossings.

    ``shapely.line_merge`` stops at every crossing, so a grid stays one line per block side.
    Here each node pairs the segment ends that meet there, the straightest pairs first (degree
    2: always; 3: the best pair; 4: the best of three matchings), and the chains are ordered by
    pointer jumping (list ranking), all in numpy. Segments on closed loops (roundabouts) stay
    single segments. Every input segment appears in exactly one output line.
    """
    n_seg = len(a)
    if n_seg == 0:
        return np.array([], dtype=object)
    node = np.concatenate([a, b])
    other = np.concatenate([b, a])
    twin = np.concatenate([np.arange(n_seg) + n_seg, np.arange(n_seg)])
    coslat = np.cos(np.radians(lat[node]))
    ang = np.arctan2(lat[other] - lat[node], (lon[other] - lon[node]) * coslat)
    order = np.argsort(node, kind="stable")
    sn = node[order]
    first = np.r_[True, sn[1:] != sn[:-1]]
    starts = np.flatnonzero(first)
    deg = np.diff(np.r_[starts, len(sn)])
    partner = np.full(2 * n_seg, -1, dtype=np.int64)

    def score(h1, h2):  # 1 when the two ends leave in opposite directions
        return -np.cos(ang[h1] - ang[h2])

    def link(h1, h2, ok=None):
        if ok is not None:
            h1, h2 = h1[ok], h2[ok]
        partner[h1], partner[h2] = h2, h1

    for d in (2, 3, 4):
        st = starts[deg == d]
        if len(st) == 0:
            continue
        h = np.stack([order[st + k] for k in range(d)])  # (d, nodes)
        if d == 2:
            link(h[0], h[1])
        elif d == 3:
            pairs = [(0, 1), (0, 2), (1, 2)]
            sc = np.stack([score(h[i], h[j]) for i, j in pairs])
            best = sc.argmax(axis=0)
            for k, (i, j) in enumerate(pairs):
                link(h[i], h[j], (best == k) & (sc[k] > 0))
        else:
            match = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
            sc = np.stack([score(h[p[0]], h[p[1]]) + score(h[q[0]], h[q[1]])
                           for p, q in match])
            best = sc.argmax(axis=0)
            for k, (p, q) in enumerate(match):
                sel = best == k
                link(h[p[0]], h[p[1]], sel & (score(h[p[0]], h[p[1]]) > 0))
                link(h[q[0]], h[q[1]], sel & (score(h[q[0]], h[q[1]]) > 0))
    # state h = "leave node[h] along segment h % n_seg"; next state continues through the far end
    nxt = np.where(partner[twin] >= 0, partner[twin], -1)
    pred = np.full(2 * n_seg, -1, dtype=np.int64)
    has = nxt >= 0
    pred[nxt[has]] = np.flatnonzero(has)
    head = np.arange(2 * n_seg)
    dist = (pred >= 0).astype(np.int64)
    jump = pred.copy()
    for _ in range(int(np.ceil(np.log2(2 * n_seg + 1))) + 1):
        m = jump >= 0
        if not m.any():
            break
        j = jump[m]
        head_new, dist_new, jump_new = head[j], dist[m] + dist[j], jump[j]
        head[m], dist[m], jump[m] = head_new, dist_new, jump_new
    on_path = jump < 0  # states on closed loops never reach a head
    idx = np.flatnonzero(on_path)
    srt = idx[np.lexsort((dist[idx], head[idx]))]
    g_first = np.r_[True, head[srt][1:] != head[srt][:-1]]
    g_start = np.flatnonzero(g_first)
    g_end = np.r_[g_start[1:], len(srt)] - 1
    heads, ends = srt[g_start], srt[g_end]
    keep_g = heads < twin[ends]  # each chain once, from its smaller-numbered end
    sizes = g_end - g_start + 1
    keep = np.repeat(keep_g, sizes)
    states = srt[keep]
    gid = np.repeat(np.arange(len(heads)), sizes)[keep]
    pts = node[states]
    last = np.flatnonzero(np.r_[gid[1:] != gid[:-1], True])
    all_nodes = np.concatenate([pts, other[states[last]]])
    all_gid = np.concatenate([gid, gid[last]])
    pos = np.concatenate([np.arange(len(pts)), last + 0.5])
    o = np.lexsort((pos, all_gid))
    all_nodes, all_gid = all_nodes[o], all_gid[o]
    _, line_idx = np.unique(all_gid, return_inverse=True)
    lines = shapely.linestrings(np.column_stack([lon[all_nodes], lat[all_nodes]]),
                                indices=line_idx)
    done = np.zeros(n_seg, dtype=bool)
    done[states % n_seg] = True
    rest = np.flatnonzero(~done)  # closed loops: one line per segment
    if len(rest):
        xy = np.empty((2 * len(rest), 2))
        xy[0::2, 0], xy[0::2, 1] = lon[a[rest]], lat[a[rest]]
        xy[1::2, 0], xy[1::2, 1] = lon[b[rest]], lat[b[rest]]
        loops = shapely.linestrings(xy, indices=np.repeat(np.arange(len(rest)), 2))
        lines = np.concatenate([lines, loops])
    return lines


def roads_layer(region: Region, simplify_m: float) -> gpd.GeoDataFrame:
    """The region's roads as chained, simplified lines (major = drivable)."""
    net = region.network
    rows = []
    seen = np.zeros(0, dtype=np.int64)
    for mode, major in (("drive", True), ("walk", False), ("ebike", False)):
        if mode not in net.modes:
            continue
        u, v, _, _ = net.edges(mode)
        a, b = np.minimum(u, v), np.maximum(u, v)
        key = np.unique(a * net.n_nodes + b)
        key = key[~np.isin(key, seen)]
        seen = np.concatenate([seen, key])
        if len(key) == 0:
            continue
        a, b = key // net.n_nodes, key % net.n_nodes
        parts = chain_segments(a, b, net.lon, net.lat)
        if simplify_m > 0:
            parts = simplify_lonlat(parts, simplify_m, preserve_topology=False, crs=net.crs)
        rows.append(gpd.GeoDataFrame({"major": np.full(len(parts), major)},
                                     geometry=parts, crs=4326))
    if not rows:
        return gpd.GeoDataFrame({"major": []}, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return pd.concat(rows, ignore_index=True)


def encode_polylines(lines: np.ndarray) -> list[str]:
    """Lines (shapely, lon/lat) → Google encoded-polyline strings (precision 1e-5), vectorised.

    About 5 bytes per point instead of about 20 in GeoJSON; decoded by ``BM.decode``.
    """
    lines = np.asarray(lines)
    if len(lines) == 0:
        return []
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    ll = np.round(coords[:, ::-1] * 1e5).astype(np.int64)  # (lat, lon)
    d = ll.copy()
    same = np.r_[False, idx[1:] == idx[:-1]]
    d[same] = ll[same] - ll[np.flatnonzero(same) - 1]  # first point absolute, then deltas
    v = d.ravel()
    z = (v << 1) ^ (v >> 63)  # zig-zag
    nbits = np.where(z > 0, np.floor(np.log2(np.maximum(z, 1))).astype(int) + 1, 1)
    nchunk = (nbits + 4) // 5
    k = np.arange(7)
    chunks = (z[:, None] >> (5 * k[None, :])) & 31
    chunks = chunks | np.where(k[None, :] < nchunk[:, None] - 1, 0x20, 0)
    chars = (chunks + 63).astype(np.uint8)
    flat = chars[k[None, :] < nchunk[:, None]].tobytes().decode("ascii")
    per_point = nchunk.reshape(-1, 2).sum(axis=1)
    per_line = np.bincount(idx, weights=per_point, minlength=len(lines)).astype(np.int64)
    ends = np.cumsum(per_line)
    return [flat[e - n:e] for e, n in zip(ends.tolist(), per_line.tolist(), strict=True)]


def transform(gdf: gpd.GeoDataFrame, *, gcj02: bool, simplify_m: float = 0.0,
               digits: int = 5) -> gpd.GeoDataFrame:
    """Simplify, shift to GCJ-02 when the tiles need it, and round to ~1 m."""
    geoms = gdf.geometry.values
    if simplify_m > 0:  # in metres, by gis (maps computes nothing)
        geoms = simplify_lonlat(geoms, simplify_m, preserve_topology=True)

    def f(xy: np.ndarray) -> np.ndarray:
        if gcj02 and len(xy):
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        return np.round(xy, digits)

    out = gdf.copy()
    out["geometry"] = shapely.transform(np.asarray(geoms), f)
    return out


def to_geojson(gdf: gpd.GeoDataFrame, fields: list[str]) -> str:
    """A FeatureCollection as compact GeoJSON text, keeping only ``fields``.

    Geometry through ``shapely.to_geojson`` and properties through pandas' JSON writer, both
    vectorised: 80k features in 0.1 s where ``GeoDataFrame.to_json`` took 5 s.
    """
    keep = [c for c in fields if c in gdf]
    if len(gdf) == 0:
        return '{"type":"FeatureCollection","features":[]}'
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values))
    geoms = np.where(pd.isna(geoms), "null", geoms)
    props = pd.DataFrame(gdf[keep]).to_json(orient="records", lines=True, force_ascii=False,
                                            double_precision=6).rstrip("\n").split("\n")
    feats = ",".join(f'{{"type":"Feature","properties":{p},"geometry":{g}}}'
                     for p, g in zip(props, geoms.tolist(), strict=True))
    return '{"type":"FeatureCollection","features":[' + feats + "]}"


