"""Service-circle polygons: the ground each outlet's 15/30-minute circle really reaches.

Made from the road network, never a convex hull. For one outlet (or a set of outlets):

1. bounded Dijkstra on the *reversed* graph (people travel **to** the outlet) gives, for every
   node, the time left: ``budget − egress − network time``;
2. each directed edge ``u → v`` whose head ``v`` is reached is covered from ``v`` back towards
   ``u`` for the fraction ``min(1, left_v / seconds)`` of its straight segment, so a partly
   reached edge is cut exactly at the remaining time;
3. the reached pieces are sampled every half cell and burnt into a fine raster (default 25 m)
   that keeps, per cell, the walking distance still possible (``left × walking speed``, capped at
   ``CircleOptions.max_access_m``);
4. the cells are widened by that distance (two Euclidean distance transforms: one from the
   roads with the whole capped walk left, one giving each cell its nearest reached cell's walk)
   and
   traced into polygons (contourpy's filled contour of the 0/1 grid).

Nothing off the network is painted except this short, capped walk from a reached road, so a valley
or a river with no bridge reached in time stays out. Buffering every reached edge and unioning
them was measured at 2.5–4 s per outlet reaching 40k nodes; this raster recipe runs in tens of
milliseconds (see ``docs/map.md``, "Benchmarks").

Which circle an outlet serves
-----------------------------
Coverage judges each *resident* by the circle of the area they live in (urban: 15 minutes on
foot, rural: 30 minutes by e-bike, by default). The polygon of an outlet is therefore the ground
from which a resident, judged by their own circle, reaches it: its urban-circle reach inside urban
areas united with its rural-circle reach inside rural areas. The popup's "circle it serves" is the
circle of the area the outlet itself lies in (the nearest area if it lies in none).

Population inside
-----------------
``population`` counts the demand points whose own circle reaches the outlet by exactly the rule of
:func:`gis.coverage.compute_coverage`, asked of :mod:`gis.rules`: access leg to the snapped node,
plus network time, plus egress leg, within the circle's minutes as the tables round them. The
bounded search runs to :func:`gis.rules.search_limit_s`, past ``minutes × 60``, so a point at
900.29 s is counted as the table counts it; points further than ``max_snap_m`` from a road never
count. Hence a point is covered in the coverage table ⇔ it is counted for at least one outlet,
and the union's population equals the covered population. The polygon is the drawing of that
rule (drawn to ``minutes × 60``); it differs only where a point's straight walk to its snapped
node is longer than the widening cap (such a point may be counted yet lie just outside the drawn
polygon). ``ServiceCircles.inside_share`` reports
how much of the counted population lies inside the drawn polygons.
"""

from __future__ import annotations

import logging
import time
import typing
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from .crs import local_metric_crs
from .network import RoadNetwork
from .region import Region, RegionSettings
from .rules import point_is_urban, search_limit_s, snapped, within_circle

__all__ = ["CircleOptions", "ServiceCircles", "reach_polygons", "reach_union",
           "service_circles", "circles_of_region", "outlet_circle_kind"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CircleOptions:
    """How circle polygons are drawn.

    Parameters
    ----------
    cell_m
        Raster cell size in metres (grown automatically when a grid would exceed ``max_side``).
    max_access_m
        Cap on the walk from a reached road into the land beside it (metres). Keep it short:
        a long cap paints across rivers and valleys.
    max_side
        Largest raster side in cells for a merged circle (many outlets).
    outlet_side
        Largest raster side in cells for one outlet's circle: a 30-minute e-bike circle
        (15 km across) is drawn with 47 m cells instead of 25 m, four times fewer cells.
    chunk
        Outlets per batch of bounded Dijkstra (memory: ``chunk × n_nodes`` floats).
    simplify_m
        Douglas–Peucker tolerance for the final polygons (0 keeps the cell staircase).
    """

    cell_m: float = 25.0
    max_access_m: float = 250.0
    max_side: int = 4000
    outlet_side: int = 320
    chunk: int = 32
    simplify_m: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= self.cell_m <= 1000:
            raise ValueError(f"Expected cell_m in [1, 1000], got {self.cell_m}.")
        if not 0 <= self.max_access_m <= 100_000:
            raise ValueError(f"Expected max_access_m in [0, 100000], got {self.max_access_m}.")
        if not 16 <= self.max_side <= 20_000:
            raise ValueError(f"Expected max_side in [16, 20000], got {self.max_side}.")
        if not 16 <= self.outlet_side <= 20_000:
            raise ValueError(f"Expected outlet_side in [16, 20000], got {self.outlet_side}.")
        if self.chunk < 1:
            raise ValueError(f"Expected chunk >= 1, got {self.chunk}.")
        if self.simplify_m < 0:
            raise ValueError(f"Expected simplify_m >= 0, got {self.simplify_m}.")


# ------------------------------------------------------------------------------ raster core
def _reached_samples(network: RoadNetwork, mode: str, left_s: np.ndarray,
                     step_m: float, cap_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample points on the reached parts of the mode's edges, with the walk left there (m).

    ``left_s`` is the time left at every node (negative or NaN: not reached). Edges with the
    whole capped walk left at both ends are sampled every ``cap_m / 2`` only: discs of radius
    ``cap_m`` that far apart still cover the strip ``cap_m · √3/2`` wide beside the road, and
    the cells between samples are painted by the widening (this halves the samples of a big
    e-bike circle).
    """
    u, v, sec, length = network.edges(mode)
    lv = left_s[v]
    ok = lv >= 0
    u, v, sec, length, lv = u[ok], v[ok], sec[ok], length[ok], lv[ok]
    frac = np.minimum(1.0, lv / np.maximum(sec, 1e-9))
    covered_m = length * frac
    full = (lv - sec) * network.speeds.walk_ms >= cap_m  # even the far end keeps the whole walk
    step = np.where(full & (cap_m > 2 * step_m), cap_m / 2, step_m)
    k = np.maximum(np.ceil(covered_m / step).astype(np.int64), 0) + 1  # samples per edge
    edge = np.repeat(np.arange(len(u)), k)
    start = np.cumsum(k) - k
    j = np.arange(len(edge)) - start[edge]
    t = (j / np.maximum(k[edge] - 1, 1)) * frac[edge]  # fraction of the edge from v towards u
    xv, yv = network.x[v[edge]], network.y[v[edge]]
    xu, yu = network.x[u[edge]], network.y[u[edge]]
    px = xv + (xu - xv) * t
    py = yv + (yu - yv) * t
    left_at = lv[edge] - t * sec[edge]
    walk = np.minimum(np.maximum(left_at, 0.0) * network.speeds.walk_ms, cap_m)
    # reached nodes with no reached edge (a source on an isolated node) still count
    nodes = np.flatnonzero(left_s >= 0)
    px = np.concatenate([px, network.x[nodes]])
    py = np.concatenate([py, network.y[nodes]])
    walk = np.concatenate([walk, np.minimum(left_s[nodes] * network.speeds.walk_ms, cap_m)])
    return px, py, walk


def _cells_to_polygon(mask: np.ndarray, x0: float, y0: float, cell: float):
    """Trace covered cells (row = y) into one (Multi)Polygon.

    contourpy's filled contour of the 0/1 grid at 0.5 traces the cell edges (cutting each
    convex corner of the staircase diagonally) in one C++ pass: 0.06 s for a 400×400 grid
    where ``shapely.union_all`` of the row runs took 2–3 s. Without contourpy the row runs are
    dissolved with shapely.
    """
    if not mask.any():
        return shapely.Polygon()
    try:
        import contourpy
    except ImportError:  # pragma: no cover - contourpy comes with matplotlib
        return _runs_to_polygon(mask, x0, y0, cell)
    z = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2))
    z[1:-1, 1:-1] = mask
    gen = contourpy.contour_generator(z=z, fill_type="OuterOffset", name="serial")
    # OuterOffset gives (points, offsets), both lists; the stub's union also allows None
    points, offsets = typing.cast(tuple[list[np.ndarray], list[np.ndarray]],
                                  gen.filled(0.5, 2.0))
    polys = []
    for pts, off in zip(points, offsets, strict=True):
        xy = np.column_stack([x0 + (pts[:, 0] - 0.5) * cell, y0 + (pts[:, 1] - 0.5) * cell])
        rings = [xy[off[i]:off[i + 1]] for i in range(len(off) - 1)]
        polys.append(shapely.Polygon(rings[0], rings[1:]))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _runs_to_polygon(mask: np.ndarray, x0: float, y0: float, cell: float):
    """Fallback: one box per run of covered cells in a row, dissolved by shapely."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    rs, cs = np.nonzero(d == 1)
    _, ce = np.nonzero(d == -1)  # row-major order keeps starts and ends paired
    boxes = shapely.box(x0 + cs * cell, y0 + rs * cell, x0 + ce * cell, y0 + (rs + 1) * cell)
    return shapely.union_all(boxes)


def _cell_size(network: RoadNetwork, left_s: np.ndarray, side: int,
               options: CircleOptions) -> float:
    """Cell size for a raster of the reached nodes' extent (plus the walk) of at most ``side``."""
    ok = left_s >= 0
    if not ok.any():
        return options.cell_m
    pad = 2 * options.max_access_m
    w = np.ptp(network.x[ok]) + pad
    h = np.ptp(network.y[ok]) + pad
    return float(max(options.cell_m, w / side, h / side))


def _draw(network: RoadNetwork, mode: str, left_s: np.ndarray, options: CircleOptions, *,
          side: int):
    """Reach polygon from the time left at every node (negative or inf: not reached)."""
    cell = _cell_size(network, left_s, side, options)
    px, py, walk = _reached_samples(network, mode, left_s, cell / 2, options.max_access_m)
    return _raster_polygon(px, py, walk, options, cell)


def _raster_polygon(px: np.ndarray, py: np.ndarray, walk: np.ndarray,
                    options: CircleOptions, cell: float):
    """Polygon of the sampled network pieces widened by their walking distance."""
    if len(px) == 0:
        return shapely.Polygon()
    cap = float(walk.max()) if len(walk) else 0.0
    x0, y0 = px.min() - cap, py.min() - cap
    w, h = px.max() + cap - x0, py.max() + cap - y0
    cell = max(cell, w / options.max_side, h / options.max_side)
    x0, y0 = x0 - cell, y0 - cell
    nx_, ny_ = int(np.ceil(w / cell)) + 3, int(np.ceil(h / cell)) + 3
    ci = ((px - x0) / cell).astype(np.int64)
    ri = ((py - y0) / cell).astype(np.int64)
    flat = np.full(ny_ * nx_, -1.0)
    np.maximum.at(flat, ri * nx_ + ci, walk)
    best = flat.reshape(ny_, nx_)
    covered = best >= 0
    if cap > 0:
        # a feature transform: every cell takes the nearest reached cell and is covered when
        # that cell's walk left reaches it (slightly short at the frontier, where a farther road
        # might have more time left), plus a plain EDT from the roads with the whole capped walk
        dist, (ir, ic) = ndimage.distance_transform_edt(~covered, return_indices=True)
        near = dist * cell <= best[ir, ic] + cell / 2
        full = best >= cap - 1e-9  # roads with the whole capped walk left: exact, one EDT
        if full.any():
            near |= ndimage.distance_transform_edt(~full) * cell <= cap + cell / 2
        covered = near
    poly = _cells_to_polygon(covered, x0, y0, cell)
    if not poly.is_valid:  # two cells touching at a corner can pinch a ring
        poly = shapely.make_valid(poly, method="structure")
    if options.simplify_m > 0:
        poly = shapely.simplify(poly, options.simplify_m, preserve_topology=True)
    return poly


def _bounded_times(network: RoadNetwork, mode: str, sources: np.ndarray,
                   offsets_s: np.ndarray, limit_s: float) -> np.ndarray:
    """(len(sources), n) seconds from every node *to* each source, egress included.

    ``inf`` past ``limit_s``. Each row is the same compiled search the coverage table uses
    (:meth:`gis.network.RoadNetwork.times_to_nearest`), started at the source's egress time, so
    the sums are bit-identical to the coverage table's and a point on the boundary is judged
    the same way by both.
    """
    n = network.n_nodes
    sources = np.asarray(sources, dtype=np.int64)
    offsets_s = np.asarray(offsets_s, dtype=float)
    out = np.empty((len(sources), n))
    for i in range(len(sources)):
        out[i], _ = network.times_to_nearest(sources[i:i + 1], mode=mode,
                                             offsets_s=offsets_s[i:i + 1], limit_s=limit_s)
    return out


def reach_polygons(network: RoadNetwork, sources, *, mode: str, budget_s: float,
                   offsets_s=None, options: CircleOptions | None = None) -> np.ndarray:
    """One reach polygon per source node, in the network's projected CRS.

    Parameters
    ----------
    network
        The road network.
    sources
        Source node indices (the outlets' snapped nodes).
    mode
        Travel mode.
    budget_s
        The circle in seconds.
    offsets_s
        Per-source egress seconds (the walk from the node to the outlet), default 0.
    options
        Drawing options.

    Returns
    -------
    numpy.ndarray
        shapely geometries (empty where a source reaches nothing).
    """
    options = options or CircleOptions()
    sources = np.asarray(sources, dtype=np.int64)
    offsets = (np.zeros(len(sources)) if offsets_s is None
               else np.asarray(offsets_s, dtype=float))
    out = np.empty(len(sources), dtype=object)
    for s in range(0, len(sources), options.chunk):
        idx = sources[s:s + options.chunk]
        times = _bounded_times(network, mode, idx, offsets[s:s + options.chunk], budget_s)
        for j in range(len(idx)):  # one raster per outlet
            left = budget_s - times[j]
            out[s + j] = _draw(network, mode, left, options, side=options.outlet_side)
    return out


def reach_union(network: RoadNetwork, sources, *, mode: str, budget_s: float,
                offsets_s=None, options: CircleOptions | None = None):
    """The union of the sources' reach polygons, drawn at once from a multi-source Dijkstra."""
    options = options or CircleOptions()
    sources = np.asarray(sources, dtype=np.int64)
    if len(sources) == 0:
        return shapely.Polygon()
    t, _ = network.times_to_nearest(sources, mode=mode, offsets_s=offsets_s, limit_s=budget_s)
    return _draw(network, mode, budget_s - t, options, side=options.max_side)


# ------------------------------------------------------------------------------ outlets
def outlet_circle_kind(outlets: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """``"urban"``/``"rural"`` per outlet: the circle of the area it lies in (else the nearest)."""
    if len(outlets) == 0:
        return np.array([], dtype=object)
    pts = gpd.GeoDataFrame(geometry=outlets.geometry.values, crs=outlets.crs)
    a = areas[["urban", "geometry"]].to_crs(pts.crs)
    hit = gpd.sjoin(pts, a, how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    urban = hit["urban"].reindex(pts.index)
    miss = urban.isna().to_numpy()
    if miss.any():
        mp = gpd.GeoSeries(pts.geometry.values[miss], crs=pts.crs).to_crs(4326)
        utm = local_metric_crs(mp.x.to_numpy(), mp.y.to_numpy())
        near = gpd.sjoin_nearest(pts[miss].to_crs(utm), a.to_crs(utm), how="left")
        near = near[~near.index.duplicated(keep="first")]
        urban[miss] = near["urban"].reindex(pts.index[miss]).to_numpy()
    return np.where(urban.fillna(True).to_numpy(dtype=bool), "urban", "rural").astype(object)


@dataclass(frozen=True)
class ServiceCircles:
    """Circle polygons per outlet, per outlet kind and for the whole network (EPSG:4326).

    Attributes
    ----------
    outlets
        One row per outlet: ``outlet_id, name, kind, circle, minutes, mode, population,
        geometry``.
    by_kind
        One row per outlet kind: ``kind, outlets, population, geometry``.
    network
        One row: ``outlets, population, geometry``.
    counted
        Bool per demand point (in the demand table's order): counted inside some outlet's
        circle; equals the coverage table's ``covered``.
    inside_share
        Share of the counted population whose point lies inside the drawn network polygon.
    seconds
        Wall time spent drawing.
    """

    outlets: gpd.GeoDataFrame
    by_kind: gpd.GeoDataFrame
    network: gpd.GeoDataFrame
    counted: np.ndarray
    inside_share: float
    seconds: float

    def summary(self) -> str:
        """One line: how many polygons, the people inside, the drawing's agreement."""
        pop = float(self.network["population"].iloc[0]) if len(self.network) else 0.0
        return (f"{len(self.outlets)} service-circle polygons; {pop:,.0f} people inside the "
                f"network's circles ({self.inside_share:.1%} of them inside the drawn polygon); "
                f"drawn in {self.seconds:.1f} s")


def _area_masks(areas: gpd.GeoDataFrame | None, crs: str):
    if areas is None or len(areas) == 0:
        return {"urban": None, "rural": None}
    a = areas.to_crs(crs)
    out = {}
    for kind, flag in (("urban", True), ("rural", False)):
        sel = a[a["urban"].astype(bool) == flag]
        out[kind] = shapely.union_all(sel.geometry.values) if len(sel) else shapely.Polygon()
    return out


def _clip(geoms, mask):
    if mask is None:
        return geoms
    return shapely.intersection(geoms, mask)


def service_circles(network: RoadNetwork, settings: RegionSettings, outlets: gpd.GeoDataFrame,
                    demand: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None, *,
                    options: CircleOptions | None = None) -> ServiceCircles:
    """Circle polygons and the population inside, per outlet, per kind and for the network.

    See the module docstring for which circle an outlet serves and how population is counted.
    With ``areas=None`` every place is judged by the urban circle.
    """
    options = options or CircleOptions()
    t0 = time.perf_counter()
    n_o, n_d = len(outlets), len(demand)
    masks = _area_masks(areas, network.crs)
    kinds_in_use = (dict(settings.circles) if areas is not None
                    else {"urban": settings.circles["urban"]})
    demand_kind = np.where(point_is_urban(demand, areas), "urban", "rural").astype(object)
    lon, lat = outlets["lon"].to_numpy(float), outlets["lat"].to_numpy(float)
    pop = demand["population"].to_numpy(float)
    okind = outlets["kind"].to_numpy() if n_o else np.array([], dtype=object)
    kinds = list(pd.unique(okind))
    counted_kind = {k: np.zeros(n_d, dtype=bool) for k in kinds}  # per outlet kind
    counted = np.zeros(n_d, dtype=bool)
    outlet_pop = np.zeros(n_o)
    per_kind_geoms: dict[str, np.ndarray] = {}
    for ck, circle in kinds_in_use.items():
        budget = circle.minutes * 60.0
        limit = search_limit_s(circle.minutes)  # every time within the circle, as rounded
        osnap = network.snap(lon, lat, mode=circle.mode)
        geoms = np.empty(n_o, dtype=object)
        dsel = np.flatnonzero(demand_kind == ck)
        dsnap = network.snap(demand["lon"].to_numpy(float)[dsel],
                             demand["lat"].to_numpy(float)[dsel], mode=circle.mode)
        dok = snapped(dsnap.distance_m, settings.max_snap_m)
        for s in range(0, n_o, options.chunk):
            idx = np.arange(s, min(s + options.chunk, n_o))
            times = _bounded_times(network, circle.mode, osnap.node[idx],
                                   osnap.access_s[idx], limit)
            # the coverage rule, exactly: access + (egress + network) within the circle
            tt = dsnap.access_s[None, :] + times[:, dsnap.node]
            hit = within_circle(tt, circle.minutes) & dok[None, :]
            outlet_pop[idx] += hit @ pop[dsel]
            counted[dsel] |= hit.any(axis=0)
            for k in pd.unique(okind[idx]):
                counted_kind[k][dsel] |= hit[okind[idx] == k].any(axis=0)
            for j, o in enumerate(idx):
                left = budget - times[j]
                geoms[o] = _draw(network, circle.mode, left, options,
                                 side=options.outlet_side)
        per_kind_geoms[ck] = _clip(geoms, masks[ck])
    geoms = shapely.union_all(np.stack(list(per_kind_geoms.values())), axis=0) \
        if len(per_kind_geoms) > 1 else next(iter(per_kind_geoms.values()))
    own = (outlet_circle_kind(outlets, areas) if areas is not None
           else np.full(n_o, "urban", dtype=object))
    minutes = np.array([settings.circles[k].minutes for k in own]) if n_o else np.array([])
    modes = np.array([settings.circles[k].mode for k in own], dtype=object)
    per_outlet = gpd.GeoDataFrame({
        "outlet_id": outlets["id"].to_numpy(), "name": outlets["name"].to_numpy(),
        "kind": outlets["kind"].to_numpy(), "circle": own, "minutes": minutes, "mode": modes,
        "population": outlet_pop,
    }, geometry=gpd.GeoSeries(geoms, crs=network.crs).values, crs=network.crs)

    def union_of(sel: np.ndarray):
        parts = []
        for ck, circle in kinds_in_use.items():
            osnap = network.snap(lon[sel], lat[sel], mode=circle.mode)
            g = reach_union(network, osnap.node, mode=circle.mode,
                            budget_s=circle.minutes * 60.0, offsets_s=osnap.access_s,
                            options=options)
            parts.append(g if masks[ck] is None else shapely.intersection(g, masks[ck]))
        return shapely.union_all(parts)

    rows = []
    for kind in kinds:
        sel = okind == kind
        rows.append({"kind": kind, "outlets": int(sel.sum()),
                     "population": float(pop[counted_kind[kind]].sum()),
                     "geometry": union_of(sel)})
    by_kind = gpd.GeoDataFrame(rows, geometry="geometry", crs=network.crs) if rows else \
        gpd.GeoDataFrame({"kind": [], "outlets": [], "population": []},
                         geometry=gpd.GeoSeries([], crs=network.crs), crs=network.crs)
    whole = union_of(np.ones(n_o, dtype=bool)) if n_o else shapely.Polygon()
    net = gpd.GeoDataFrame({"outlets": [n_o], "population": [float(pop[counted].sum())]},
                           geometry=gpd.GeoSeries([whole], crs=network.crs).values,
                           crs=network.crs)
    dx, dy = network.project(demand["lon"].to_numpy(float), demand["lat"].to_numpy(float))
    inside = shapely.contains_xy(whole, dx, dy) if n_d else np.zeros(0, dtype=bool)
    cpop = pop[counted].sum()
    share = float(pop[counted & inside].sum() / cpop) if cpop > 0 else float("nan")
    seconds = time.perf_counter() - t0
    result = ServiceCircles(outlets=_wgs84(per_outlet), by_kind=_wgs84(by_kind),
                            network=_wgs84(net), counted=counted, inside_share=share,
                            seconds=seconds)
    log.info("%s", result.summary())
    return result


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """To EPSG:4326, repairing the rare ring that reprojection pinches into a bow-tie."""
    out = gdf.to_crs(4326)
    bad = ~out.geometry.is_valid.to_numpy()
    if bad.any():
        out.loc[bad, "geometry"] = out.geometry[bad].make_valid()
    return out


def circles_of_region(region: Region, outlets: gpd.GeoDataFrame | None = None, *,
                      options: CircleOptions | None = None) -> ServiceCircles:
    """Service circles of a loaded region's outlets (or of ``outlets`` given here)."""
    return service_circles(region.network, region.settings,
                           region.outlets if outlets is None else outlets,
                           region.demand, region.areas, options=options)

