"""Build a region's tables from a raw OSM extract: outlets, areas and a population proxy.

What comes out is real OSM data where OSM has it (outlet names and places, boundaries,
residential land and buildings) and is labelled where it is not:

* **Outlets** from POIs: service halls (``office=government`` named 政务服务…, ``amenity=townhall``),
  post offices, carrier shops (``shop=mobile_phone``/``telecommunication`` or 移动/联通/电信/缴费厅),
  community stations (社区 places and 社区-named residential areas) and banks (candidate sites).
  Hours, phone and services are *illustrative* placeholders (``illustrative=true``).
* **Areas**: where the extract has no township boundaries, Voronoi cells around the 社区 points or
  the settlements (towns, villages, hamlets), clipped to the admin boundaries when those close,
  else to the road network's hull; all marked ``approximate=true``.
* **Demand**: a *population proxy*: points on residential land (150 m grid), building centroids
  weighted by footprint, and settlement points, scaled to a stated regional total.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from shapely import wkb

from .defaults import CIRCLES, DRIVE_FACTOR, EBIKE_KMH, MAX_SNAP_M, WALK_KMH
from .errors import InputError, InputProblem
from .io import atomic_path, write_csv
from .network import RoadNetwork

__all__ = ["OsmFeatures", "read_features", "build_region"]

log = logging.getLogger(__name__)

_CARRIER = re.compile(r"中国移动|移动营业|联通|电信|缴费厅|China Mobile|China Unicom|China Telecom")
_HALL = re.compile(r"政务|行政服务|便民服务中心|市民中心")
_URBAN_PLACES = {"city", "town", "suburb", "neighbourhood", "quarter", "borough"}
_RURAL_PLACES = {"village", "hamlet", "isolated_dwelling"}
_PLACE_WEIGHT = {"city": 200_000, "town": 60_000, "suburb": 30_000, "village": 8_000,
                 "hamlet": 1_500, "isolated_dwelling": 200}
_HOURS = "周一至周五 09:00-12:00, 13:30-17:30 (illustrative)"
_SERVICES = {
    "service_hall": "社保;医保;户籍;不动产登记;工程建设;营业执照 (illustrative)",
    "township_centre": "社保;医保;民政;计生;证明开具 (illustrative)",
    "community_station": "社保卡;医保缴费;居住证;老年证;代办帮办 (illustrative)",
    "post_office": "证照寄递;社保卡代办;交通罚款;出入境材料收转 (illustrative)",
    "carrier_shop": "社保卡激活;缴费;证照代收 (illustrative)",
    "bank": "社保卡;公积金查询 (illustrative)",
}


@dataclass
class OsmFeatures:
    """Raw features read from an extract, WGS-84."""

    pois: pd.DataFrame          # osm_id, lon, lat, kind, name, place
    residential: gpd.GeoSeries  # polygons
    buildings: gpd.GeoSeries    # polygons
    boundaries: gpd.GeoDataFrame  # name, admin_level, geometry (only those that close)


def _name(tags) -> str:
    for k in ("name", "name:zh", "name:en"):
        if k in tags and tags[k].strip():
            return tags[k].strip()
    return ""


def _classify(tags) -> str | None:
    name = _name(tags)
    amenity, office, shop = tags.get("amenity"), tags.get("office"), tags.get("shop")
    if amenity == "townhall" or (office == "government" and (
            tags.get("government") == "public_service" or _HALL.search(name))):
        return "service_hall"
    if amenity == "post_office":
        return "post_office"
    if shop in ("mobile_phone", "telecommunication") or (name and _CARRIER.search(name)):
        return "carrier_shop"
    if amenity == "bank":
        return "bank"
    if name.endswith("社区") and (tags.get("place") or tags.get("landuse") == "residential"):
        return "community_station"
    return None


def read_features(path: str | Path) -> OsmFeatures:
    """One pass with pyosmium (locations attached) over an .osm/.osm.bz2/.pbf extract."""
    path = Path(path)
    wkbf = osmium.geom.WKBFactory()
    pois: list[dict] = []
    res: list = []
    bld: list = []
    rel_members: dict[int, tuple[str, str, list[int]]] = {}

    class Pass1(osmium.SimpleHandler):
        def node(self, n):
            t = n.tags
            kind = _classify(t)
            place = t.get("place")
            if kind or place in _PLACE_WEIGHT:
                pois.append(dict(osm_id=f"n{n.id}", lon=n.location.lon, lat=n.location.lat,
                                 kind=kind or "", name=_name(t), place=place or "",
                                 population=t.get("population", "")))

        def way(self, w):
            t = w.tags
            if not w.is_closed() or len(w.nodes) < 4:
                return
            kind = _classify(t)
            want = kind or t.get("landuse") == "residential" or "building" in t
            if not want:
                return
            try:
                ring = wkb.loads(wkbf.create_linestring(w), hex=True)
            except (RuntimeError, osmium.InvalidLocationError):
                return
            poly = shapely.Polygon(ring.coords)
            if not poly.is_valid:
                poly = poly.buffer(0)
            if kind:
                c = poly.representative_point()
                pois.append(dict(osm_id=f"w{w.id}", lon=c.x, lat=c.y, kind=kind,
                                 name=_name(t), place="", population=""))
            if t.get("landuse") == "residential":
                res.append(poly)
            elif "building" in t:
                bld.append(poly)

        def relation(self, r):
            t = r.tags
            if t.get("boundary") == "administrative" and t.get("admin_level", "").isdigit():
                ways = [m.ref for m in r.members if m.type == "w"]
                rel_members[r.id] = (_name(t), t.get("admin_level"), ways)

    try:
        Pass1().apply_file(str(path), locations=True)
    except RuntimeError as exc:
        raise InputError(InputProblem(str(path), None, None,
                                 f"cannot read the OSM file (truncated or corrupt?): {exc}")) from exc
    wanted = {w for _, _, ws in rel_members.values() for w in ws}
    lines: dict[int, object] = {}

    class Pass2(osmium.SimpleHandler):
        def way(self, w):
            if w.id in wanted:
                try:
                    lines[w.id] = wkb.loads(wkbf.create_linestring(w), hex=True)
                except (RuntimeError, osmium.InvalidLocationError):
                    pass

    if wanted:
        Pass2().apply_file(str(path), locations=True)
    rows = []
    for rid, (name, level, ways) in rel_members.items():
        parts = [lines[w] for w in ways if w in lines]
        if not parts:
            continue
        polys = list(shapely.get_parts(shapely.polygonize(parts)))
        if polys:
            geom = shapely.union_all(polys)
            rows.append(dict(osm_id=f"r{rid}", name=name, admin_level=int(level), geometry=geom))
    boundaries = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326") if rows else \
        gpd.GeoDataFrame({"osm_id": [], "name": [], "admin_level": []}, geometry=[],
                         crs="EPSG:4326")
    return OsmFeatures(pois=pd.DataFrame(pois, columns=["osm_id", "lon", "lat", "kind", "name",
                                                        "place", "population"]),
                       residential=gpd.GeoSeries(res, crs="EPSG:4326"),
                       buildings=gpd.GeoSeries(bld, crs="EPSG:4326"),
                       boundaries=boundaries)


def _voronoi_cells(seeds: gpd.GeoDataFrame, clip, crs: str) -> gpd.GeoSeries:
    pts = seeds.to_crs(crs).geometry
    region = gpd.GeoSeries([clip], crs="EPSG:4326").to_crs(crs).iloc[0]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(list(pts)),
                                                       extend_to=region))
    # match each cell back to its seed
    tree = shapely.STRtree(cells)
    order = tree.query(np.asarray(pts), predicate="within")
    cell_of = np.full(len(pts), -1)
    cell_of[order[0]] = order[1]
    geoms = [shapely.intersection(cells[c], region) if c >= 0 else None for c in cell_of]
    return gpd.GeoSeries(geoms, crs=crs).to_crs(4326)


def _unique_ids(prefix: str, names: list[str]) -> list[str]:
    return [f"{prefix}{i + 1:03d}" for i in range(len(names))]


def build_region(osm_path: str | Path, out_dir: str | Path, *, name: str | None = None,
                 total_population: float | None = None, urban_mode: str = CIRCLES["urban"][1],
                 rural_mode: str = CIRCLES["rural"][1], grid_m: float = 150.0,
                 copy_roads: bool = True) -> Path:
    """Make a region folder (``region.toml``, outlets, demand, areas) from an OSM extract.

    ``total_population`` is the stated regional total the proxy is scaled to; without it the
    proxy's raw weights (about one person per 40 m² of residential land) are used.
    """
    osm_path = Path(osm_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = RoadNetwork.from_osm_file(osm_path)
    feats = read_features(osm_path)
    crs = net.crs
    hull = shapely.convex_hull(shapely.MultiPoint(np.column_stack([net.lon, net.lat])))
    bounds = feats.boundaries
    # the finest admin level whose polygons sit inside the network's extent
    # the network's hull (plus 300 m) bounds the areas; admin polygons that close inside it
    # (clipped extracts often leave some open) name the parish/district of each area
    hull_m = gpd.GeoSeries([hull], crs="EPSG:4326").to_crs(crs).buffer(300)
    clip = hull_m.to_crs(4326).iloc[0]
    parish_layer = None
    if len(bounds):
        inside = bounds[bounds.geometry.representative_point().within(hull)]
        if len(inside):
            level = int(inside["admin_level"].max())
            parish_layer = inside[inside["admin_level"] == level].reset_index(drop=True)
    pois = feats.pois
    in_clip = shapely.contains_xy(clip, pois["lon"].to_numpy(), pois["lat"].to_numpy())
    pois = pois[in_clip].reset_index(drop=True)
    # ---- areas: 社区 seeds, else settlement seeds
    community = pois[pois["kind"] == "community_station"].drop_duplicates("name")
    settlements = pois[pois["place"].isin(_URBAN_PLACES | _RURAL_PLACES)
                       & (pois["kind"] == "")]
    # cities and suburbs are districts (their population tags count millions), not settlements
    settlements = settlements[~settlements["place"].isin({"neighbourhood", "quarter", "city",
                                                          "suburb", "borough"})]
    if len(community) >= 3:
        seeds = community.assign(urban=True)
    elif len(settlements) >= 1:
        seeds = settlements.drop_duplicates("name").assign(
            urban=lambda d: d["place"].isin(_URBAN_PLACES))
    else:
        raise InputError(InputProblem(str(osm_path), None, None,
                                 "no 社区 points or settlements (place=town/village/hamlet) to "
                                 "derive areas from; supply an areas file instead"))
    seeds = gpd.GeoDataFrame(seeds.reset_index(drop=True),
                             geometry=gpd.points_from_xy(seeds["lon"], seeds["lat"]),
                             crs="EPSG:4326")
    if len(seeds) == 1:
        cells = gpd.GeoSeries([clip], crs="EPSG:4326")
    else:
        cells = _voronoi_cells(seeds, clip, crs)
    areas = gpd.GeoDataFrame({
        "id": _unique_ids("A", list(seeds["name"])),
        "name": [f"{n}（近似 approx.）" for n in seeds["name"]],
        "urban": seeds["urban"].to_numpy(dtype=bool),
        "approximate": True,
    }, geometry=cells.values, crs="EPSG:4326")
    if parish_layer is not None:
        rp = areas.geometry.representative_point()
        j = gpd.sjoin(gpd.GeoDataFrame(geometry=rp, crs="EPSG:4326"), parish_layer[["name",
                      "geometry"]], how="left", predicate="within")
        j = j[~j.index.duplicated()]
        areas["parish"] = j["name"].fillna("").to_numpy()
    areas = areas[~areas.geometry.is_empty & areas.geometry.notna()].reset_index(drop=True)
    # ---- outlets
    oc = pois[pois["kind"] != ""].copy()
    oc["name"] = np.where(oc["name"] == "", oc["kind"].map({
        "post_office": "邮政网点", "bank": "银行网点", "carrier_shop": "营业厅",
        "service_hall": "政务服务中心", "community_station": "社区便民服务站"}), oc["name"])
    oc["name"] = np.where(oc["kind"] == "community_station", oc["name"] + "便民服务站",
                          oc["name"])
    oc = oc.drop_duplicates(["kind", "name", "lon", "lat"]).reset_index(drop=True)
    prefix = {"service_hall": "H", "post_office": "P", "carrier_shop": "C",
              "community_station": "S", "bank": "B"}
    oc["id"] = [f"{prefix[k]}{i + 1:03d}" for i, k in enumerate(oc["kind"])]
    table = pd.DataFrame({
        "id": oc["id"], "name": oc["name"], "kind": oc["kind"],
        "lon": oc["lon"].round(7), "lat": oc["lat"].round(7),
        "address": "", "phone": "", "hours": _HOURS,
        "services": oc["kind"].map(_SERVICES), "illustrative": True, "osm_id": oc["osm_id"],
    })
    table["phone"] = [f"0{7000000 + 137 * i:07d} (illustrative)" for i in range(len(table))]
    # banks are not government outlets: they are candidate sites for delegation
    is_bank = table["kind"] == "bank"
    outlets = table[~is_bank].reset_index(drop=True)
    candidates = table[is_bank].reset_index(drop=True)
    # ---- demand: population proxy
    demand = _population_proxy(feats, settlements, areas, crs, grid_m, total_population)
    # ---- write
    roads_name = "roads" + "".join(osm_path.suffixes[-2:] if osm_path.suffixes[-1] in
                                   (".bz2", ".pbf") else osm_path.suffixes[-1:])
    if copy_roads and (out / roads_name).resolve() != osm_path.resolve():
        with atomic_path(out / roads_name) as tmp:
            shutil.copyfile(osm_path, tmp)
    write_csv(outlets, out / "outlets.csv")
    write_csv(candidates, out / "candidates.csv")
    write_csv(demand, out / "demand.csv")
    with atomic_path(out / "areas.geojson") as tmp:
        areas.to_file(tmp, driver="GeoJSON", engine="pyogrio")
    total = float(demand["population"].sum())
    toml = f'''# bianmin region, built by `bianmin region init` from {osm_path.name}
name = "{name or out.name}"
attribution = "© OpenStreetMap contributors, ODbL 1.0"

[files]
roads = "{roads_name if copy_roads else osm_path.resolve()}"
outlets = "outlets.csv"
candidates = "candidates.csv"
demand = "demand.csv"
areas = "areas.geojson"

[coordinates]
crs = "wgs84"

[circles.urban]
minutes = {CIRCLES["urban"][0]:g}
mode = "{urban_mode}"

[circles.rural]
minutes = {CIRCLES["rural"][0]:g}
mode = "{rural_mode}"

[speeds]
walk_kmh = {WALK_KMH}
ebike_kmh = {EBIKE_KMH}
drive_factor = {DRIVE_FACTOR}

[network]
max_snap_m = {MAX_SNAP_M:g}

[population]
proxy = true
total = {total:.0f}
note = "Population PROXY, not census data: residential land, building footprints and settlements from OSM scaled to {total:,.0f} people. Replace demand.csv with your own table."
'''
    with atomic_path(out / "region.toml") as tmp:
        tmp.write_text(toml, encoding="utf-8")
    log.info("region written to %s: %d outlets, %d demand points, %d areas", out,
             len(outlets), len(demand), len(areas))
    return out


def _population_proxy(feats: OsmFeatures, settlements: pd.DataFrame, areas: gpd.GeoDataFrame,
                      crs: str, grid_m: float, total: float | None) -> pd.DataFrame:
    pts_x: list[np.ndarray] = []
    pts_y: list[np.ndarray] = []
    wts: list[np.ndarray] = []
    res = feats.residential.to_crs(crs)
    for poly in res:  # grid points inside each residential polygon, weight = its area share
        if poly.is_empty:
            continue
        x0, y0, x1, y1 = poly.bounds
        mx, my = np.meshgrid(np.arange(x0 + grid_m / 2, x1, grid_m),
                             np.arange(y0 + grid_m / 2, y1, grid_m))
        gx, gy = mx.ravel(), my.ravel()
        inside = shapely.contains_xy(poly, gx, gy) if len(gx) else np.zeros(0, bool)
        if inside.sum() == 0:
            c = poly.representative_point()
            gx, gy, inside = np.array([c.x]), np.array([c.y]), np.array([True])
        pts_x.append(gx[inside])
        pts_y.append(gy[inside])
        wts.append(np.full(inside.sum(), poly.area / inside.sum() / 40.0))
    bld = feats.buildings.to_crs(crs)
    if len(bld):
        c = bld.centroid
        pts_x.append(c.x.to_numpy())
        pts_y.append(c.y.to_numpy())
        wts.append(bld.area.to_numpy() * 3 / 40.0)  # assume 3 storeys, 40 m² a person
    if len(settlements):
        s = gpd.GeoSeries(gpd.points_from_xy(settlements["lon"], settlements["lat"]),
                          crs="EPSG:4326").to_crs(crs)
        pop = pd.to_numeric(settlements["population"].str.replace(",", ""), errors="coerce")
        w = np.where(pop.notna(), pop, settlements["place"].map(_PLACE_WEIGHT).fillna(500))
        pts_x.append(s.x.to_numpy())
        pts_y.append(s.y.to_numpy())
        wts.append(np.asarray(w, dtype=float) * 0.25)
    if not pts_x:
        raise InputError(InputProblem("osm", None, None, "no residential land, buildings or "
                                 "settlements to build a population proxy from"))
    x, y, w = np.concatenate(pts_x), np.concatenate(pts_y), np.concatenate(wts)
    # merge onto a grid so overlapping sources become one demand point
    gx = np.floor(x / grid_m).astype(np.int64)
    gy = np.floor(y / grid_m).astype(np.int64)
    key = pd.DataFrame({"gx": gx, "gy": gy, "x": x * w, "y": y * w, "w": w})
    g = key.groupby(["gx", "gy"], sort=True).sum()
    g = g[g["w"] > 0]
    px, py = g["x"] / g["w"], g["y"] / g["w"]
    pts = gpd.GeoDataFrame({"w": g["w"].to_numpy()},
                           geometry=gpd.points_from_xy(px, py), crs=crs).to_crs(4326)
    j = gpd.sjoin(pts, areas[["id", "geometry"]], how="inner", predicate="within")
    j = j[~j.index.duplicated()]
    weights = j["w"].to_numpy()
    scale = (total / weights.sum()) if total else 1.0
    popn = np.round(weights * scale).astype(int)
    keep = popn > 0
    j = j[keep]
    return pd.DataFrame({
        "id": [f"D{i + 1:05d}" for i in range(len(j))],
        "lon": j.geometry.x.round(7).to_numpy(), "lat": j.geometry.y.round(7).to_numpy(),
        "population": popn[keep], "area_id": j["id"].to_numpy(),
        "source": "proxy",
    })
