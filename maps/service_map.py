"""The published service map (政务服务地图): an offline folder with index.html, assets and GeoJSON.

Reads results, computes nothing: the region (outlets, areas, roads), a
:class:`gis.coverage.CoverageResult` and a :class:`gis.circles.ServiceCircles`, optionally the
sites proposed by siting. Built with folium, every script, style sheet and icon vendored (see
:mod:`maps.assets`); markers are inline-SVG ``DivIcon``s, popups are drawn in the browser from
each feature's properties. The page is checked for stray internet addresses before it is written.

Only public facts reach the page: outlets (name, kind, address, office phone, hours, services),
areas, aggregate population points outside their circle and the circles. Errands and runners
(personal data) are never read here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, LocateControl
from folium.template import Template

from gis.circles import ServiceCircles
from gis.coords import wgs84_to_gcj02
from gis.coverage import CoverageResult
from gis.errors import InputError, Problem
from gis.region import Region

from .style import (
    KIND_STYLE,
    PROPOSAL_COLOUR,
    RATE_STEPS,
    TEXT,
    icon_svg,
    kind_label,
    mode_label,
    rate_colour,
)
from .tiles import TileChoice, tile_choice
from .vendor import LEAFLET_CSS, LEAFLET_JS, check_offline, copy_assets, localise

__all__ = ["MapOptions", "ServiceMap", "build_map", "write_map", "PROPOSAL_COLUMNS"]

log = logging.getLogger(__name__)

PROPOSAL_COLUMNS = ["site_id", "name", "kind", "lon", "lat", "added_population", "rank"]
#: The only properties each layer may carry (a guard against personal data slipping in).
LAYER_FIELDS: dict[str, list[str]] = {
    "outlets": ["id", "name", "kind", "address", "phone", "hours", "services", "illustrative",
                "circle_label", "minutes", "mode", "population"],
    "circles": ["outlet_id", "kind", "minutes", "mode", "population"],
    "circles_by_kind": ["kind", "outlets", "population"],
    "network_circle": ["outlets", "population"],
    "areas": ["id", "name", "urban", "population", "covered_population", "coverage_rate",
              "fill"],
    "uncovered": ["population", "minutes", "circle_label", "area"],
    "proposals": ["site_id", "name", "kind", "added_population", "rank"],
    "roads": ["major"],
}


@dataclass(frozen=True)
class MapOptions:
    """How the map is drawn.

    Parameters
    ----------
    lang
        ``"zh"`` (default) or ``"en"``.
    tiles
        ``"osm"``, ``"tianditu"``, ``"amap"`` or ``"none"`` (the region's own roads).
    tianditu_key
        Tianditu browser key (else ``$TIANDITU_KEY``); required for ``tiles="tianditu"``.
    max_outlet_circles
        Draw per-outlet circles on the page up to this many outlets (beyond it the page shows
        the merged circles and per-outlet polygons stay in ``circles.geojson``).
    simplify_m
        Tolerance for simplifying drawn polygons and roads (metres, about).
    """

    lang: str = "zh"
    tiles: str = "osm"
    tianditu_key: str | None = None
    max_outlet_circles: int = 500
    simplify_m: float = 12.0

    def __post_init__(self) -> None:
        if self.lang not in ("zh", "en"):
            raise ValueError(f"Expected lang 'zh' or 'en', got {self.lang!r}.")
        if self.tiles not in ("osm", "tianditu", "amap", "none"):
            raise ValueError(f"Expected tiles osm, tianditu, amap or none, got {self.tiles!r}.")
        if self.max_outlet_circles < 0:
            raise ValueError("Expected max_outlet_circles >= 0.")
        if not 0 <= self.simplify_m <= 500:
            raise ValueError(f"Expected simplify_m in [0, 500], got {self.simplify_m}.")


@dataclass
class ServiceMap:
    """A built map: the folium object and the layers (WGS-84) it shows."""

    map: folium.Map
    layers: dict[str, gpd.GeoDataFrame]
    options: MapOptions
    tiles: TileChoice
    path: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: what the map shows and where it is."""
        n = {k: len(v) for k, v in self.layers.items()}
        where = f" → {self.path}" if self.path else ""
        return (f"service map ({self.options.lang}, tiles {self.options.tiles}): "
                f"{n.get('outlets', 0)} outlets, {n.get('circles', 0)} circles, "
                f"{n.get('uncovered', 0)} uncovered population points, "
                f"{n.get('proposals', 0)} proposals{where}")


# ------------------------------------------------------------------------------ layers
def _t(key: str, lang: str) -> str:
    pair = TEXT[key]
    return pair[0] if lang == "zh" else pair[1]


def _circle_label(minutes, mode, lang: str) -> str:
    if minutes is None or minutes != minutes:
        return ""
    unit = "分钟" if lang == "zh" else "min"
    sep = "" if lang == "zh" else " "
    return f"{float(minutes):g}{sep if lang == 'en' else ' '}{unit}{sep}{mode_label(mode, lang)}"


def _outlets_layer(region: Region, circles: ServiceCircles, lang: str) -> gpd.GeoDataFrame:
    c = circles.outlets
    det = pd.DataFrame(region.outlets.drop(columns="geometry"))
    det = det.drop_duplicates("id").set_index("id")
    ids = c["outlet_id"].to_numpy()
    lon = det["lon"].reindex(ids).to_numpy(float) if "lon" in det else np.full(len(ids), np.nan)
    lat = det["lat"].reindex(ids).to_numpy(float) if "lat" in det else np.full(len(ids), np.nan)
    miss = ~np.isfinite(lon)
    if miss.any():
        raise InputError(Problem("outlets", None, "id",
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
        "circle_label": [_circle_label(m, md, lang) for m, md in zip(c["minutes"], c["mode"],
                                                                     strict=True)],
        "minutes": c["minutes"].to_numpy(float), "mode": c["mode"].to_numpy(),
        "population": np.round(c["population"].to_numpy(float)),
    }, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    return out


def _areas_layer(region: Region, coverage: CoverageResult) -> gpd.GeoDataFrame:
    a = region.areas[["id", "name", "urban", "geometry"]].merge(
        coverage.areas[["area_id", "population", "covered_population", "coverage_rate"]],
        left_on="id", right_on="area_id", how="left").drop(columns="area_id")
    a["fill"] = [rate_colour(float(r)) for r in a["coverage_rate"].fillna(np.nan)]
    return gpd.GeoDataFrame(a, geometry="geometry", crs=4326)


def _uncovered_layer(region: Region, coverage: CoverageResult,
                     lang: str) -> gpd.GeoDataFrame:
    pts = coverage.uncovered
    names = dict(zip(region.areas["id"], region.areas["name"], strict=True))
    labels = [_circle_label(m, md, lang) for m, md in zip(pts["threshold_minutes"], pts["mode"],
                                                         strict=True)]
    return gpd.GeoDataFrame({
        "population": np.round(pts["population"].to_numpy(float)),
        "minutes": pts["minutes"].to_numpy(float),
        "circle_label": labels,
        "area": [names.get(a, str(a)) for a in pts["area_id"]],
    }, geometry=pts.geometry.to_crs(4326).values, crs=4326)


def _proposals_layer(proposals: pd.DataFrame | None) -> gpd.GeoDataFrame | None:
    if proposals is None or len(proposals) == 0:
        return None
    missing = [c for c in PROPOSAL_COLUMNS if c not in proposals]
    if missing:
        raise InputError(Problem("proposals", None, missing[0],
                                 f"missing column(s) {missing}; expected {PROPOSAL_COLUMNS}"))
    p = pd.DataFrame(proposals)
    return gpd.GeoDataFrame({
        "site_id": p["site_id"].astype(str).to_numpy(), "name": p["name"].astype(str).to_numpy(),
        "kind": p["kind"].astype(str).to_numpy(),
        "added_population": p["added_population"].to_numpy(float),
        "rank": p["rank"].to_numpy(),
    }, geometry=gpd.points_from_xy(p["lon"].to_numpy(float), p["lat"].to_numpy(float)), crs=4326)


def _roads_layer(region: Region, simplify_deg: float) -> gpd.GeoDataFrame:
    """The region's roads as merged, simplified lines (major = drivable)."""
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
        coords = np.empty((2 * len(a), 2))
        coords[0::2, 0], coords[0::2, 1] = net.lon[a], net.lat[a]
        coords[1::2, 0], coords[1::2, 1] = net.lon[b], net.lat[b]
        lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(a)), 2))
        merged = shapely.line_merge(shapely.multilinestrings(lines))
        parts = shapely.get_parts(merged)
        if simplify_deg > 0:
            parts = shapely.simplify(parts, simplify_deg)
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


def _transform(gdf: gpd.GeoDataFrame, *, gcj02: bool, simplify_deg: float = 0.0,
               digits: int = 5) -> gpd.GeoDataFrame:
    """Simplify, shift to GCJ-02 when the tiles need it, and round to ~1 m."""
    geoms = gdf.geometry.values
    if simplify_deg > 0:
        geoms = shapely.simplify(geoms, simplify_deg, preserve_topology=True)

    def f(xy: np.ndarray) -> np.ndarray:
        if gcj02 and len(xy):
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        return np.round(xy, digits)

    out = gdf.copy()
    out["geometry"] = shapely.transform(np.asarray(geoms), f)
    return out


def _geojson(gdf: gpd.GeoDataFrame, fields: list[str]) -> dict:
    keep = [c for c in fields if c in gdf]
    g = gdf[keep + ["geometry"]]
    return json.loads(g.to_json(drop_id=True, na="null"))


# ------------------------------------------------------------------------------ folium parts
def safe_json(obj: object) -> str:
    """JSON to paste into a page script: compact, UTF-8, safe inside ``<script>`` and Jinja.

    branca re-parses every rendered script as a Jinja template, so ``{{``, ``{%`` and ``{#``
    (possible in encoded polylines or in a name) are written as JSON ``\\u`` escapes.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for a, b in (("</", "<\\/"), ("<!--", "<\\u0021--"), ("{{", "{\\u007b"),
                 ("{%", "{\\u0025"), ("{#", "{\\u0023")):
        text = text.replace(a, b)
    return text

class _GeoLayer(folium.GeoJson):
    """A GeoJSON layer whose style, points and popups are the functions in assets/bianmin.js."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson(null, {{ this.js_options }});
        {{ this.get_name() }}.addData({{ this.data_js }});
        {% endmacro %}
    """)

    def __init__(self, data: dict, *, name: str, js: dict[str, str], show: bool = True,
                 control: bool = True, interactive: bool = True) -> None:
        super().__init__(data, name=name, show=show, control=control, overlay=True)
        opts = [f"{k}: {v}" for k, v in js.items()]
        if not interactive:
            opts.append("interactive: false")
        self.js_options = "{" + ", ".join(opts) + "}"
        self.data_js = safe_json(self.data)


class _Search(JSCSSMixin, MacroElement):
    """leaflet-search over the outlets layer: type part of a name, pick it, its popup opens."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = new L.Control.Search({
            layer: {{ this.layer.get_name() }}, propertyName: "name", initial: false,
            zoom: 16, collapsed: false, position: "topleft", autoCollapse: true,
            textPlaceholder: {{ this.placeholder_js }}, textErr: {{ this.not_found_js }},
            marker: false, firstTipSubmit: true, autoResize: false
        });
        {{ this.get_name() }}.on("search:locationfound", function (e) {
            if (e.layer && e.layer.openPopup) { e.layer.openPopup(); }
        });
        {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
    """)

    default_js = [("Leaflet.Search.js", "assets/leaflet-search/dist/leaflet-search.min.js")]
    default_css = [("Leaflet.Search.css", "assets/leaflet-search/dist/leaflet-search.min.css")]

    def __init__(self, layer: folium.GeoJson, *, placeholder: str, not_found: str) -> None:
        super().__init__()
        self._name = "OutletSearch"
        self.layer = layer
        self.placeholder_js = safe_json(placeholder)
        self.not_found_js = safe_json(not_found)


class _Roads(MacroElement):
    """The region's own roads as encoded polylines on the canvas (the base map for tiles none)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        BM.roads({{ this._parent.get_name() }}, {{ this.data_js }});
        {% endmacro %}
    """)

    def __init__(self, roads: gpd.GeoDataFrame) -> None:
        super().__init__()
        self._name = "Roads"
        major = roads["major"].to_numpy(bool)
        geoms = roads.geometry.values
        self.data_js = safe_json({"major": encode_polylines(geoms[major]),
                                  "minor": encode_polylines(geoms[~major])})


class _Init(MacroElement):
    """Attribution, legend and the ready flag, once every layer is on the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        BM.init({{ this._parent.get_name() }});
        {% endmacro %}
    """)


def _config(region: Region, lang: str, kinds: list[str], has_proposals: bool,
            tiles: TileChoice) -> dict:
    rate_names = []
    lo = 0.0
    for upper, colour in RATE_STEPS:
        hi = min(upper, 1.0)
        rate_names.append((f"{lo:.0%}–{hi:.0%}", colour))
        lo = upper
    circles = region.settings.circles
    names = {"urban": ("城区", "Urban"), "rural": ("乡村", "Rural")}
    note = "; ".join(f"{names[k][0] if lang == 'zh' else names[k][1]}: "
                     f"{_circle_label(c.minutes, c.mode, lang)}" for k, c in circles.items())
    return {
        "lang": lang,
        "title": f"{region.name} {_t('title', lang)}",
        "T": {k: _t(k, lang) for k in TEXT},
        "kinds": {k: {"colour": v[0], "label": kind_label(k, lang), "svg": icon_svg(k),
                      "svg_small": icon_svg(k, size=18)} for k, v in KIND_STYLE.items()},
        "kinds_used": {k: True for k in kinds},
        "has_proposals": has_proposals,
        "proposal_svg": _star_svg(30), "proposal_svg_small": _star_svg(18),
        "rate_steps": rate_names,
        "circles_note": note,
        "proxy": bool(region.settings.population_is_proxy),
        "attribution": tiles.data_attribution,
    }


def _star_svg(size: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            'viewBox="0 0 24 24"><path d="M12 1.8l3.1 6.6 7.2.9-5.3 5 1.4 7.1L12 17.9l-6.4 3.5 '
            f'1.4-7.1-5.3-5 7.2-.9z" fill="{PROPOSAL_COLOUR}" stroke="#7d6608" '
            'stroke-width="1.2"/></svg>')


def build_map(region: Region, coverage: CoverageResult, circles: ServiceCircles, *,
              proposals: pd.DataFrame | None = None,
              options: MapOptions | None = None) -> ServiceMap:
    """Assemble the folium map (nothing is written).

    Parameters
    ----------
    region
        The loaded region (outlet details, areas, roads, settings).
    coverage
        Coverage of the region by the outlets drawn.
    circles
        Their circle polygons (:func:`gis.circles.service_circles`).
    proposals
        Optional sites chosen by siting: ``site_id, name, kind, lon, lat, added_population,
        rank``.
    options
        Language, tiles and drawing options.

    Raises
    ------
    gis.errors.InputError
        Tianditu without a key, a proposals table without its columns.
    """
    options = options or MapOptions()
    lang = options.lang
    tiles = tile_choice(options.tiles, lang=lang, key=options.tianditu_key)
    gcj = tiles.gcj02
    deg = options.simplify_m / 111_320.0
    layers: dict[str, gpd.GeoDataFrame] = {
        "outlets": _outlets_layer(region, circles, lang),
        "circles": circles.outlets[["outlet_id", "kind", "minutes", "mode", "population",
                                    "geometry"]],
        "circles_by_kind": circles.by_kind,
        "network_circle": circles.network,
        "areas": _areas_layer(region, coverage),
        "uncovered": _uncovered_layer(region, coverage, lang),
    }
    prop = _proposals_layer(proposals)
    if prop is not None:
        layers["proposals"] = prop
    if options.tiles == "none":
        layers["roads"] = _roads_layer(region, deg / 2)

    w, s, e, n = region.bbox()
    if gcj:
        (w, e), (s, n) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=13, tiles=None,
                   prefer_canvas=True, control_scale=True)
    m.default_js = list(LEAFLET_JS) + [("bianmin_js", "assets/bianmin.js")]
    m.default_css = list(LEAFLET_CSS)
    m.fit_bounds([[float(s), float(w)], [float(n), float(e)]])
    root = m.get_root()
    root.title = f"{region.name} {_t('title', lang)}"
    root.header.add_child(Element(
        '<meta name="viewport" content="width=device-width, initial-scale=1.0, '
        'maximum-scale=1.0, user-scalable=no" />'), name="viewport")
    kinds = list(pd.unique(layers["outlets"]["kind"]))
    cfg = _config(region, lang, kinds, prop is not None, tiles)
    root.header.add_child(Element(f"<script>window.BM_CONFIG = {safe_json(cfg)};</script>"),
                          name="bm_config")

    for t in tiles.layers:
        folium.TileLayer(tiles=t.url, attr=t.attribution, name=t.name, overlay=t.overlay,
                         control=not t.overlay, subdomains=t.subdomains, max_zoom=18,
                         min_zoom=3).add_to(m)

    def add(key: str, js: dict[str, str], *, simplify: bool = False, show: bool = True,
            control: bool = True, interactive: bool = True) -> folium.GeoJson:
        gdf = _transform(layers[key], gcj02=gcj, simplify_deg=deg if simplify else 0.0)
        layer = _GeoLayer(_geojson(gdf, LAYER_FIELDS[key]), name=_t(key, lang), js=js,
                          show=show, control=control, interactive=interactive)
        layer.add_to(m)
        return layer

    if "roads" in layers:
        _Roads(layers["roads"]).add_to(m)
    add("areas", {"style": "BM.areaStyle", "onEachFeature": "BM.areaEach"}, simplify=True)
    if len(layers["circles"]) <= options.max_outlet_circles:
        add("circles", {"style": "BM.circleStyle"}, simplify=True, interactive=False)
    else:  # too many to draw one by one: the merged circle of each kind, same colours
        add("circles_by_kind", {"style": "BM.circleStyle"}, simplify=True, interactive=False)
    add("network_circle", {"style": "BM.networkStyle"}, simplify=True, interactive=False)
    add("uncovered", {"pointToLayer": "BM.uncoveredPoint", "onEachFeature": "BM.uncoveredEach"})
    if prop is not None:
        add("proposals", {"pointToLayer": "BM.proposalPoint", "onEachFeature": "BM.proposalEach"})
    outlets = add("outlets", {"pointToLayer": "BM.outletPoint",
                              "onEachFeature": "BM.outletEach"})

    search = _Search(outlets, placeholder=_t("search", lang), not_found=_t("not_found", lang))
    search.add_to(m)
    fs = Fullscreen(position="topleft", title=_t("fullscreen", lang),
                    title_cancel=_t("exit_fullscreen", lang))
    loc = LocateControl(position="topleft", icon="bm-icon-locate",
                        iconLoading="bm-icon-locate bm-spin",
                        strings={"title": _t("locate", lang)}, drawCircle=True,
                        flyTo=True, keepCurrentZoomLevel=False)
    for el in (fs, loc):
        localise(el)
        el.add_to(m)
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    _Init().add_to(m)
    return ServiceMap(map=m, layers=layers, options=options, tiles=tiles)


def write_map(region: Region, coverage: CoverageResult, circles: ServiceCircles,
              out_dir: str | os.PathLike, *, proposals: pd.DataFrame | None = None,
              options: MapOptions | None = None) -> ServiceMap:
    """Write ``out_dir/map/``: index.html, assets/ and the layers as GeoJSON, atomically.

    The folder is built beside its destination and renamed into place; the old one (if any)
    is removed only after the new one is complete.

    Raises
    ------
    maps.vendor.MapBuildError
        If the page would load anything from the internet other than the chosen tiles.
    """
    sm = build_map(region, coverage, circles, proposals=proposals, options=options)
    html = sm.map.get_root().render()
    check_offline(html, allowed_hosts=sm.tiles.hosts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "map"
    tmp = Path(tempfile.mkdtemp(prefix=".map.", dir=out_dir))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the page is meant to be served
    try:
        copy_assets(tmp)
        (tmp / "index.html").write_text(html, encoding="utf-8")
        files = {"index": final / "index.html"}
        for key, gdf in sm.layers.items():  # beside the page, always WGS-84 (RFC 7946)
            rounded = _transform(gdf, gcj02=False)
            (tmp / f"{key}.geojson").write_text(
                json.dumps(_geojson(rounded, LAYER_FIELDS[key]), ensure_ascii=False),
                encoding="utf-8")
            files[key] = final / f"{key}.geojson"
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=".map.old.", dir=out_dir))
            os.replace(final, old / "map")
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    sm.path = final / "index.html"
    sm.files = files
    log.info("%s", sm.summary())
    return sm
