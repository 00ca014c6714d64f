"""Population from what planners have: census tables and population rasters → demand points.

* **Census** (:func:`census_demand`): counts per area (joined by ``area_id``, or by ``name``
  after removing 村/社区/居委会 suffixes) spread *dasymetrically* over residential buildings
  (weight = footprint area), else residential land, else the area's road-near cells (evenly),
  else its representative point; each area's total is kept to the person (largest remainder).
  Rows with coordinates and no area (village points) get their area by point-in-polygon.
* **Raster** (:func:`raster_demand`): a WorldPop / GHS-POP GeoTIFF in any CRS, read with
  rasterio; one demand point per populated cell (or per ``aggregate`` × ``aggregate`` block),
  split exactly at area borders with exactextract's coverage fractions, so that each area's
  point sum equals its exact zonal sum (both reported).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .aliases import excel_rows, normalise_table
from .errors import InputError, InputProblem
from .io import Column, read_table, validate_table, write_csv

__all__ = ["PopulationResult", "normalise_name", "largest_remainder", "read_census",
           "population_of_region",
           "census_demand", "raster_demand", "write_population"]

log = logging.getLogger(__name__)

_SUFFIX = re.compile(r"(村民委员会|居民委员会|村委会|居委会|社区|村)$")


def normalise_name(name: object) -> str:
    """A place name for matching: NFKC, no spaces, without a 村/社区/居委会… suffix."""
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name)))
    while True:  # 红星社区居委会 → 红星社区 → 红星
        stripped = _SUFFIX.sub("", s)
        if stripped == s or not stripped:
            return s
        s = stripped


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (Hamilton's method)."""
    w = np.asarray(weights, dtype=float)
    if total <= 0 or len(w) == 0:
        return np.zeros(len(w), dtype=np.int64)
    if w.sum() <= 0:
        w = np.ones(len(w))
    quota = w / w.sum() * total
    base = np.floor(quota).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:  # ties go to the earlier point (stable sort)
        base[np.argsort(-(quota - base), kind="stable")[:short]] += 1
    return base


@dataclass(frozen=True)
class PopulationResult:
    """Demand points and the per-area totals they came from."""

    demand: gpd.GeoDataFrame   # id, lon, lat, population, area_id, source, method, geometry
    areas: pd.DataFrame        # area_id, name, target, points_sum, method
    source: str
    problems: list[InputProblem] = field(default_factory=list)  # unmatched rows and the like

    def summary(self) -> str:
        """One line: how many people, points and areas, and what was not matched."""
        s = (f"{self.demand['population'].sum():,.0f} people in {len(self.demand)} demand "
             f"points over {int((self.areas['points_sum'] > 0).sum())} areas (from {self.source})")
        if self.problems:
            s += f"; {len(self.problems)} row(s) not used (see the list)"
        return s


def read_census(path: str | os.PathLike) -> pd.DataFrame:
    """Read a census table (CSV/XLSX): ``population`` and ``area_id``, ``name`` or lon/lat."""
    file = str(path)
    df = normalise_table(read_table(path))
    if isinstance(df, gpd.GeoDataFrame):
        df = pd.DataFrame(df.drop(columns="geometry"))
    from .region import MAX_POPULATION

    cols = [Column("population", "float", minimum=0, maximum=MAX_POPULATION)]
    for c in ("area_id", "name"):
        if c in df:
            cols.append(Column(c, required=False))
    if "lon" in df and "lat" in df:
        cols += [Column("lon", "float", required=False), Column("lat", "float", required=False)]
    if not any(c in df for c in ("area_id", "name", "lon")):
        raise InputError(InputProblem(file, None, None, "expected a column area_id (所属区域), "
                                      f"name (名称) or lon/lat (经度/纬度); found {list(df.columns)}"))
    out, problems = validate_table(df, file, cols, id_column=None)
    if problems:  # check_table numbers XLSX rows as Excel shows them already
        raise InputError(problems)
    return out


def _assign_points(lon: np.ndarray, lat: np.ndarray, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Index into ``areas`` of the polygon holding each point (-1 if none)."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    j = gpd.sjoin(pts, areas[["geometry"]].reset_index(drop=True), how="left",
                  predicate="within")
    j = j[~j.index.duplicated()]
    return j["index_right"].fillna(-1).to_numpy(dtype=np.int64)


def join_census(census: pd.DataFrame, areas: gpd.GeoDataFrame, *, by: str = "area",
                file: str = "census") -> tuple[np.ndarray, pd.DataFrame, list[InputProblem]]:
    """Census rows → per-area counts, village points, and every row that matched nothing.

    Returns ``(counts per area, points, problems)``: rows with lon/lat and no area are village
    points (area by point-in-polygon); the others are joined by ``area_id`` or by ``name``.
    """
    if by not in ("area", "name"):
        raise InputError(InputProblem("--by", None, None, f"{by!r}: expected area or name"))
    problems: list[InputProblem] = []
    counts = np.zeros(len(areas))
    pop = census["population"].to_numpy(dtype=float)
    has_xy = (np.isfinite(census["lon"].to_numpy(dtype=float)) if "lon" in census
              else np.zeros(len(census), bool))
    key_col = "area_id" if by == "area" else "name"
    if key_col not in census and not has_xy.all():
        other = "--by name" if by == "area" and "name" in census else "lon/lat for every row"
        raise InputError(InputProblem(file, None, key_col, f"no column {key_col!r} to join the "
                                      f"census by (--by {by}); use {other}"))
    keys = (census[key_col].fillna("").astype(str).str.strip() if key_col in census
            else pd.Series([""] * len(census)))
    point_rows = has_xy & ((keys == "").to_numpy() | (key_col not in census))
    if by == "area":
        by_id = {str(a): i for i, a in enumerate(areas["id"])}
        lookup = [by_id.get(k, -1) for k in keys]
    else:
        norm = [normalise_name(n) for n in areas["name"]]
        by_name: dict[str, list[int]] = {}
        for i, n in enumerate(norm):
            by_name.setdefault(n, []).append(i)
        lookup = []
        for r, k in enumerate(keys):
            hits = by_name.get(normalise_name(k), []) if k else []
            if len(hits) > 1 and not point_rows[r]:
                problems.append(InputProblem(file, r + 1, "name", f"{k!r} matches several "
                                             f"areas ({[areas['id'].iloc[h] for h in hits]}); "
                                             "use --by area"))
                lookup.append(-2)
            else:
                lookup.append(hits[0] if hits else -1)
    pts = []
    if point_rows.any():
        sel = np.flatnonzero(point_rows)
        where = _assign_points(census["lon"].to_numpy(float)[sel],
                               census["lat"].to_numpy(float)[sel], areas)
        for r, a in zip(sel.tolist(), where.tolist(), strict=True):
            if a < 0:
                problems.append(InputProblem(file, r + 1, "lon/lat",
                                             "the point lies in none of the areas"))
            else:
                pts.append((int(r), int(a)))
    for r, a in enumerate(lookup):
        if point_rows[r]:
            continue
        if a == -1:
            problems.append(InputProblem(file, r + 1, key_col, f"{keys.iloc[r]!r} matches no "
                                         f"area {'id' if by == 'area' else 'name'}"))
        elif a >= 0:
            counts[a] += pop[r]
    rows = [census.iloc[r] for r, _ in pts]
    points = pd.DataFrame({
        "lon": [float(x["lon"]) for x in rows], "lat": [float(x["lat"]) for x in rows],
        "population": [float(x["population"]) for x in rows],
        "area_index": [a for _, a in pts],
    })
    return counts, points, excel_rows(problems, file)


def _spread_one(poly: shapely.Geometry, total: int, bx: np.ndarray, by_: np.ndarray,
                bw: np.ndarray, res_poly: shapely.Geometry | None, road_tree: cKDTree | None, cell_m: float,
                road_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """One area's people → (x, y, integer counts, method) in the metric CRS."""
    x0, y0, x1, y1 = poly.bounds
    mx, my = np.meshgrid(np.arange(x0 + cell_m / 2, x1, cell_m),
                         np.arange(y0 + cell_m / 2, y1, cell_m))
    gx, gy = mx.ravel(), my.ravel()
    if len(bw):  # buildings: footprint area, merged per cell at the weighted centre
        method = "buildings"
        x, y, w = bx, by_, bw
    else:
        inside = shapely.contains_xy(poly, gx, gy) if len(gx) else np.zeros(0, bool)
        on_res = (shapely.contains_xy(res_poly, gx, gy) & inside
                  if res_poly is not None and len(gx) else np.zeros(len(gx), bool))
        if on_res.any():
            method, keep = "residential", on_res
        else:
            near = np.zeros(len(gx), bool)
            if road_tree is not None and inside.any():
                d, _ = road_tree.query(np.column_stack([gx, gy]), distance_upper_bound=road_m)
                near = inside & np.isfinite(d)
            method, keep = ("road_cells", near) if near.any() else ("even", inside)
        x, y, w = gx[keep], gy[keep], np.ones(int(keep.sum()))
        if len(w) == 0:
            c = poly.representative_point()
            method, x, y, w = "point", np.array([c.x]), np.array([c.y]), np.ones(1)
    cx, cy = np.floor(x / cell_m).astype(np.int64), np.floor(y / cell_m).astype(np.int64)
    g = pd.DataFrame({"cx": cx, "cy": cy, "xw": x * w, "yw": y * w, "w": w})
    g = g.groupby(["cx", "cy"], sort=True).sum()
    wsum = g["w"].to_numpy()
    n = largest_remainder(wsum, total)
    return (g["xw"].to_numpy() / wsum, g["yw"].to_numpy() / wsum, n, method)


def census_demand(census: pd.DataFrame, areas: gpd.GeoDataFrame, *, by: str = "area",
                  buildings: gpd.GeoSeries | None = None,
                  residential: gpd.GeoSeries | None = None,
                  road_lonlat: tuple[np.ndarray, np.ndarray] | None = None,
                  crs: str | None = None, cell_m: float = 100.0, road_m: float = 300.0,
                  file: str = "census") -> PopulationResult:
    """Census counts → demand points, each area's total kept to the person.

    Parameters
    ----------
    census
        From :func:`read_census`: ``population`` with ``area_id``, ``name`` or lon/lat.
    areas
        The region's areas (``id``, ``name``, polygons, WGS-84).
    buildings, residential
        Residential building footprints / residential land (WGS-84), e.g. from the OSM extract.
    road_lonlat
        Road node coordinates: the fallback spreads over cells within ``road_m`` of a road.
    crs
        The metric CRS to work in (default: the local UTM zone of the areas).
    """
    from .network import utm_crs

    counts, vpoints, problems = join_census(census, areas, by=by, file=file)
    if crs is None:
        c = areas.geometry.union_all().centroid
        crs = utm_crs(c.x, c.y)
    polys = areas.geometry.to_crs(crs).to_numpy()
    empty = gpd.GeoSeries([], crs="EPSG:4326")
    bld = (buildings if buildings is not None else empty).to_crs(crs)
    bld = bld[~bld.is_empty & bld.notna()]
    res = (residential if residential is not None else empty).to_crs(crs)
    res_all = shapely.union_all(res.to_numpy()) if len(res) else None
    tree = None
    if road_lonlat is not None and len(road_lonlat[0]):
        rp = gpd.GeoSeries(gpd.points_from_xy(*road_lonlat), crs="EPSG:4326").to_crs(crs)
        tree = cKDTree(np.column_stack([rp.x, rp.y]))
    bc = bld.centroid
    b_area = _assign_points(*_lonlat(bc, crs), areas) if len(bld) else np.zeros(0, np.int64)
    bx, by_, bw = bc.x.to_numpy(), bc.y.to_numpy(), bld.area.to_numpy()
    vp_area = vpoints["area_index"].to_numpy(dtype=np.int64)
    xs, ys, ns, aidx, src = [], [], [], [], []
    methods = []
    for i, poly in enumerate(polys):
        total = round(counts[i])
        if total <= 0:
            methods.append("village_points" if (vp_area == i).any() else "none")
            continue
        m = b_area == i
        res_i = shapely.intersection(res_all, poly) if res_all is not None else None
        x, y, n, method = _spread_one(poly, total, bx[m], by_[m], bw[m], res_i, tree,
                                      cell_m, road_m)
        methods.append(method)
        xs.append(x)
        ys.append(y)
        ns.append(n)
        aidx.append(np.full(len(n), i))
        src.append(np.full(len(n), method, dtype=object))
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    lon, lat = _lonlat(gpd.GeoSeries(gpd.points_from_xy(x, y), crs=crs), crs)
    frame = pd.DataFrame({
        "lon": np.concatenate([lon, vpoints["lon"].to_numpy(float)]),
        "lat": np.concatenate([lat, vpoints["lat"].to_numpy(float)]),
        "population": np.concatenate([np.concatenate(ns) if ns else np.zeros(0),
                                      vpoints["population"].to_numpy(float)]),
        "area_index": np.concatenate([np.concatenate(aidx) if aidx else np.zeros(0, int),
                                      vp_area]).astype(np.int64),
        "method": np.concatenate([np.concatenate(src) if src else np.zeros(0, object),
                                  np.full(len(vpoints), "village_point", dtype=object)]),
    })
    target = counts.copy()
    np.add.at(target, vp_area, vpoints["population"].to_numpy(float))
    return _result(frame, areas, target, methods, "census", problems)


def _lonlat(geoms: gpd.GeoSeries, crs: str) -> tuple[np.ndarray, np.ndarray]:
    g = gpd.GeoSeries(geoms, crs=crs).to_crs(4326)
    return g.x.to_numpy(), g.y.to_numpy()


def _result(frame: pd.DataFrame, areas: gpd.GeoDataFrame, target: np.ndarray,
            methods: list[str], source: str, problems: list[InputProblem],
            extra: dict | None = None) -> PopulationResult:
    frame = frame[frame["population"] > 0].reset_index(drop=True)
    ids = areas["id"].to_numpy(dtype=object)
    demand = gpd.GeoDataFrame({
        "id": [f"P{i + 1:06d}" for i in range(len(frame))],
        "lon": frame["lon"].round(7), "lat": frame["lat"].round(7),
        "population": frame["population"], "area_id": ids[frame["area_index"]],
        "source": source, "method": frame["method"],
    }, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    sums = np.bincount(frame["area_index"], weights=frame["population"], minlength=len(areas))
    table = pd.DataFrame({"area_id": ids, "name": areas["name"].to_numpy(),
                          "target": target, "points_sum": sums, "method": methods,
                          **(extra or {})})
    return PopulationResult(demand=demand, areas=table, source=source, problems=problems)


def _aggregated(src: Any, factor: int) -> tuple[Any, Any, np.ndarray]:
    """The raster summed over ``factor`` × ``factor`` blocks, as an in-memory dataset."""
    from rasterio import Affine
    from rasterio.io import MemoryFile

    from .region import MAX_POPULATION

    a = src.read(1, masked=True).filled(0).astype(float)
    a[~np.isfinite(a) | (a < 0)] = 0.0
    big = np.argwhere(a > MAX_POPULATION)
    if len(big):  # one absurd cell would change every figure of its area (issue 10)
        r, c = (int(v) for v in big[0])
        raise InputError(InputProblem(
            src.name, None, None, f"cell (row {r + 1}, column {c + 1}) holds {a[r, c]:.3g} "
            f"people, more than {MAX_POPULATION:.0e} in one cell is not plausible "
            f"({len(big)} such cell(s)); check the raster's units and nodata value"))
    if factor > 1:
        h, w = a.shape
        H, W = -(-h // factor), -(-w // factor)
        pad = np.zeros((H * factor, W * factor))
        pad[:h, :w] = a
        a = pad.reshape(H, factor, W, factor).sum(axis=(1, 3))
    transform = src.transform @ Affine.scale(factor, factor)
    mem = MemoryFile()
    with mem.open(driver="GTiff", width=a.shape[1], height=a.shape[0], count=1,
                  dtype="float64", crs=src.crs, transform=transform) as w:
        w.write(a, 1)
    return mem, mem.open(), a  # reopened for reading: exactextract takes a reader


def raster_demand(path: str | os.PathLike, areas: gpd.GeoDataFrame, *,
                  aggregate: int = 1) -> PopulationResult:
    """A population raster (any CRS) → one demand point per populated cell and area.

    Cells crossing an area border are split by exactextract's coverage fractions (the point
    goes to the centre of the cell's part inside the area), so each area's point sum equals its
    exact zonal sum, reported beside it as ``zonal_sum``.
    """
    import rasterio
    from exactextract import exact_extract

    file = str(path)
    if aggregate < 1:
        raise InputError(InputProblem("--aggregate", None, None, "expected an integer >= 1"))
    try:
        src = rasterio.open(file)
    except Exception as exc:  # rasterio's own error names no file a user can act on
        raise InputError(InputProblem(file, None, None, f"cannot read the raster: {exc}")) from exc
    with src:
        if src.crs is None:
            raise InputError(InputProblem(file, None, None, "the raster has no CRS"))
        mem, ds, grid = _aggregated(src, aggregate)
    with mem, ds:
        polys = areas.to_crs(ds.crs)
        ex = exact_extract(ds, polys[["geometry"]], ["sum", "cell_id", "coverage"],
                           output="pandas")
        t = ds.transform
    W = grid.shape[1]
    xs, ys, pops, aidx = [], [], [], []
    for i in range(len(polys)):
        cid = np.asarray(ex["cell_id"].iloc[i], dtype=np.int64)
        cov = np.asarray(ex["coverage"].iloc[i], dtype=float)
        row, col = cid // W, cid % W
        val = grid[row, col] * cov
        ok = val > 0
        row, col, cov, val = row[ok], col[ok], cov[ok], val[ok]
        cx = t.c + (col + 0.5) * t.a + (row + 0.5) * t.b
        cy = t.f + (col + 0.5) * t.d + (row + 0.5) * t.e
        part = np.flatnonzero(cov < 1 - 1e-9)
        if len(part):  # a split cell: its point at the centre of its part inside the area
            x0 = t.c + col[part] * t.a + row[part] * t.b
            y0 = t.f + col[part] * t.d + row[part] * t.e
            cells = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
            inner = shapely.intersection(cells, polys.geometry.iloc[i])
            c = shapely.point_on_surface(inner)
            good = ~shapely.is_empty(c)
            cx[part[good]], cy[part[good]] = shapely.get_x(c[good]), shapely.get_y(c[good])
        xs.append(cx)
        ys.append(cy)
        pops.append(val)
        aidx.append(np.full(len(val), i))
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    lon, lat = _lonlat(gpd.GeoSeries(gpd.points_from_xy(x, y), crs=ds.crs), ds.crs)
    frame = pd.DataFrame({"lon": lon, "lat": lat,
                          "population": np.round(np.concatenate(pops) if pops else x, 4),
                          "area_index": np.concatenate(aidx) if aidx else np.zeros(0, int),
                          "method": "raster_cell"})
    zonal = ex["sum"].to_numpy(dtype=float)
    outside = float(grid.sum() - zonal.sum())
    problems = []
    if outside > 0.5:
        problems.append(InputProblem(file, None, None, f"{outside:,.0f} people of the raster lie "
                                     "outside every area and are left out"))
    res = _result(frame, areas, zonal, ["raster"] * len(areas), f"raster {Path(file).name}",
                  problems, extra={"zonal_sum": zonal})
    return res


def write_population(result: PopulationResult, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``population/demand.csv`` (the region's demand table) and ``population/areas.csv``."""
    d = Path(out_dir) / "population"
    cols = ["id", "lon", "lat", "population", "area_id", "source", "method"]
    files = {"demand": write_csv(result.demand[cols], d / "demand.csv"),
             "areas": write_csv(result.areas, d / "areas.csv")}
    if result.problems:
        files["unmatched"] = write_csv(pd.DataFrame(
            [(p.file, p.row, p.column, p.message) for p in result.problems],
            columns=["file", "row", "column", "message"]), d / "unmatched.csv")
    return files


def population_of_region(region: str | os.PathLike, *, census: str | os.PathLike | None = None,
                         by: str = "area", raster: str | os.PathLike | None = None,
                         aggregate: int = 1) -> PopulationResult:
    """A region folder's people from a census table (spread over its OSM buildings) or a raster.

    Exactly one of ``census`` and ``raster``. The census spread uses the residential buildings
    and land of the region's OSM extract and, where an area has neither, its road nodes.
    """
    from .region import load_region

    if (census is None) == (raster is None):
        raise InputError(InputProblem("arguments", None, None,
                                      "give exactly one of --census FILE and --raster FILE.tif"))
    reg = load_region(region)
    if raster is not None:
        return raster_demand(raster, reg.areas, aggregate=aggregate)
    assert census is not None  # exactly one of the two, checked above
    table = read_census(census)
    roads = reg.files["roads"]
    buildings = residential = None
    if roads.suffix.lower() != ".graphml":
        from .osm_extract import read_features

        feats = read_features(roads)
        buildings, residential = feats.buildings, feats.residential
    net = reg.network
    on = np.zeros(net.n_nodes, bool)
    for m in net.modes:
        on |= net.nodes_in(m)
    return census_demand(table, reg.areas, by=by, buildings=buildings, residential=residential,
                         road_lonlat=(net.lon[on], net.lat[on]), crs=net.crs, file=str(census))
