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

import html
import json
import logging
import os
import re
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
from gis.errors import InputError, InputProblem
from gis.items import ItemCoverage
from gis.outdir import replace_folder
from gis.region import Region

from .layers import (
    LAYER_FIELDS,
    PROPOSAL_COLUMNS,
    areas_layer,
    circle_label,
    encode_polylines,
    outlets_layer,
    proposals_layer,
    roads_layer,
    text,
    to_geojson,
    transform,
    uncovered_layer,
)
from .planning_items import (
    ItemLayer,
    UnreachableLayer,
    delegated_items,
    item_layer_data,
    unreachable_layer,
)
from .style import (
    KIND_STYLE,
    PROPOSAL_COLOUR,
    RATE_STEPS,
    TEXT,
    icon_svg,
    kind_label,
)
from .tiles import OPTIONS, TileChoice, tile_choice
from .vendor import LEAFLET_CSS, LEAFLET_JS, check_offline, copy_assets, localise

__all__ = ["MapOptions", "ServiceMap", "build_map", "write_map", "PROPOSAL_COLUMNS"]

log = logging.getLogger(__name__)

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
        """The one check of the map options (the CLI and the web ask it, nothing else does)."""
        problems = []
        if self.lang not in ("zh", "en"):
            problems.append(InputProblem(OPTIONS, None, "lang",
                                         f"expected zh or en, got {self.lang!r}"))
        try:  # the tile sets and the Tianditu key rule live in maps.tiles
            tile_choice(self.tiles, key=self.tianditu_key)
        except InputError as exc:
            problems.extend(exc.problems)
        if self.max_outlet_circles < 0:
            problems.append(InputProblem(OPTIONS, None, "max_outlet_circles",
                                         f"expected >= 0, got {self.max_outlet_circles}"))
        if not 0 <= self.simplify_m <= 500:
            problems.append(InputProblem(OPTIONS, None, "simplify_m",
                                         f"expected [0, 500] metres, got {self.simplify_m}"))
        if problems:
            raise InputError(problems)


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


# ------------------------------------------------------------------------------ folium parts
def safe_json(obj: object) -> str:
    """JSON to paste into a page script: compact, UTF-8, safe inside ``<script>`` and Jinja."""
    return script_safe(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


#: An escape sequence already in the JSON (kept as it is) or a character to escape.
_SCRIPT_UNSAFE = re.compile("\\\\.|[<>&/\u2028\u2029]", re.DOTALL)
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "/": "\\/",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_safe(out: str) -> str:
    """JSON text made safe inside ``<script>`` and for Jinja.

    ``< > & /`` and the line separators U+2028/U+2029 become JSON escapes, so no name can end
    the script (``</script>``), open a comment or break a line in older JavaScript engines.
    branca re-parses every rendered script as a Jinja template, so ``{{``, ``{%`` and ``{#``
    (possible in encoded polylines or in a name) are written as JSON ``\\u`` escapes too.
    Only valid on JSON text (outside its strings these characters never occur).
    """
    out = _SCRIPT_UNSAFE.sub(lambda m: _SCRIPT_ESCAPES.get(m.group(), m.group()), out)
    for a, b in (("{{", "{\\u007b"), ("{%", "{\\u0025"), ("{#", "{\\u0023")):
        out = out.replace(a, b)
    return out


def html_text(text: str) -> str:
    """Text for a place Leaflet or the page inserts as HTML (layer names, the title)."""
    return html.escape(str(text), quote=True)


class _GeoLayer(folium.map.Layer):
    """A GeoJSON layer whose style, points and popups are the functions in assets/bianmin.js."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson(null, {{ this.js_options }});
        {{ this.get_name() }}.addData({{ this.data_js }});
        {% endmacro %}
    """)

    def __init__(self, geojson: str, *, name: str, js: dict[str, str], show: bool = True,
                 control: bool = True, interactive: bool = True) -> None:
        super().__init__(name=html_text(name), overlay=True, control=control, show=show)
        self._name = "GeoLayer"
        opts = [f"{k}: {v}" for k, v in js.items()]
        if not interactive:
            opts.append("interactive: false")
        self.js_options = "{" + ", ".join(opts) + "}"
        self.data_js = script_safe(geojson)


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


class _Uncovered(folium.map.Layer):
    """Population points outside their circle, sent as columns and drawn on the canvas."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = BM.uncoveredLayer({{ this.data_js }});
        {% endmacro %}
    """)

    def __init__(self, points: gpd.GeoDataFrame, *, name: str) -> None:
        super().__init__(name=html_text(name), overlay=True, control=True, show=True)
        self._name = "Uncovered"
        xy = shapely.get_coordinates(points.geometry.values)
        labels, label_idx = np.unique(points["circle_label"].astype(str), return_inverse=True)
        areas, area_idx = np.unique(points["area"].astype(str), return_inverse=True)
        mins = points["minutes"].to_numpy(float)
        self.data_js = safe_json({
            "lon": np.round(xy[:, 0], 5).tolist(), "lat": np.round(xy[:, 1], 5).tolist(),
            "pop": np.round(points["population"].to_numpy(float)).astype(int).tolist(),
            "min": [None if m != m else round(m, 1) for m in mins.tolist()],
            "label": label_idx.tolist(), "labels": labels.tolist(),
            "area": area_idx.tolist(), "areas": areas.tolist(),
        })


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
                     f"{circle_label(c.minutes, c.mode, lang)}" for k, c in circles.items())
    return {
        "lang": lang,
        "title": f"{region.name} {text('title', lang)}",
        "T": {k: text(k, lang) for k in TEXT},
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


def _icon_css() -> str:
    """One CSS rule per outlet kind painting its SVG icon (a data URI) behind the marker div."""
    rules = []
    for kind in KIND_STYLE:
        svg = icon_svg(kind).replace('"', "'").replace("#", "%23").replace("<", "%3C")
        svg = svg.replace(">", "%3E")
        rules.append(f'.bm-kind-{kind} {{ background-image: url("data:image/svg+xml,{svg}"); }}')
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def _star_svg(size: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            'viewBox="0 0 24 24"><path d="M12 1.8l3.1 6.6 7.2.9-5.3 5 1.4 7.1L12 17.9l-6.4 3.5 '
            f'1.4-7.1-5.3-5 7.2-.9z" fill="{PROPOSAL_COLOUR}" stroke="#7d6608" '
            'stroke-width="1.2"/></svg>')


def build_map(region: Region, coverage: CoverageResult, circles: ServiceCircles, *,
              proposals: pd.DataFrame | None = None,
              options: MapOptions | None = None, items: ItemCoverage | None = None,
              delegation: pd.DataFrame | None = None) -> ServiceMap:
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
    items
        Item coverage (:func:`gis.items.item_coverage_of_region`): the planner picks an item
        and sees its uncovered population.
    delegation
        ``chosen.csv`` of ``bianmin delegate`` (``outlet_id, item_name, …``): the outlets that
        get new items carry a badge "新增事项: …".

    Raises
    ------
    gis.errors.InputError
        Tianditu without a key, a proposals table without its columns.
    """
    options = options or MapOptions()
    lang = options.lang
    tiles = tile_choice(options.tiles, lang=lang, key=options.tianditu_key)
    gcj = tiles.gcj02
    layers: dict[str, gpd.GeoDataFrame] = {
        "outlets": outlets_layer(region, circles, lang),
        "circles": circles.outlets[["outlet_id", "kind", "minutes", "mode", "population",
                                    "geometry"]],
        "circles_by_kind": circles.by_kind,
        "network_circle": circles.network,
        "areas": areas_layer(region, coverage),
        "uncovered": uncovered_layer(region, coverage, lang),
    }
    new_items = delegated_items(delegation)
    layers["outlets"]["new_items"] = ["；".join(new_items.get(str(o), []))
                                      for o in layers["outlets"]["id"]]
    prop = proposals_layer(proposals)
    if prop is not None:
        layers["proposals"] = prop
    if options.tiles == "none":
        layers["roads"] = roads_layer(region, options.simplify_m / 2)

    w, s, e, n = region.bbox()
    if gcj:
        (w, e), (s, n) = wgs84_to_gcj02(np.array([w, e]), np.array([s, n]))
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=13, tiles=None,
                   prefer_canvas=True, control_scale=False)
    m.default_js = list(LEAFLET_JS) + [("bianmin_js", "assets/bianmin.js")]
    m.default_css = list(LEAFLET_CSS)
    m.fit_bounds([[float(s), float(w)], [float(n), float(e)]])
    root = m.get_root()
    root.title = html_text(f"{region.name} {text('title', lang)}")
    root.header.add_child(Element(
        '<meta name="viewport" content="width=device-width, initial-scale=1.0, '
        'maximum-scale=1.0, user-scalable=no" />'), name="viewport")
    kinds = list(pd.unique(layers["outlets"]["kind"]))
    cfg = _config(region, lang, kinds, prop is not None, tiles)
    root.header.add_child(Element(_icon_css()), name="bm_icons")
    root.header.add_child(Element(f"<script>window.BM_CONFIG = {safe_json(cfg)};</script>"),
                          name="bm_config")

    for t in tiles.layers:
        folium.TileLayer(tiles=t.url, attr=t.attribution, name=html_text(t.name), overlay=t.overlay,
                         control=not t.overlay, subdomains=t.subdomains, max_zoom=18,
                         min_zoom=3).add_to(m)

    def add(key: str, js: dict[str, str], *, simplify: float = 0.0, show: bool = True,
            control: bool = True, interactive: bool = True) -> folium.GeoJson:
        gdf = transform(layers[key], gcj02=gcj, simplify_m=options.simplify_m * simplify)
        layer = _GeoLayer(to_geojson(gdf, LAYER_FIELDS[key]), name=text(key, lang), js=js,
                          show=show, control=control, interactive=interactive)
        layer.add_to(m)
        return layer

    if "roads" in layers:
        _Roads(layers["roads"]).add_to(m)
    add("areas", {"style": "BM.areaStyle", "onEachFeature": "BM.areaEach"}, simplify=1)
    if len(layers["circles"]) <= options.max_outlet_circles:
        add("circles", {"style": "BM.circleStyle"}, simplify=1, interactive=False)
    else:  # too many to draw one by one: the merged circle of each kind, same colours
        # merged circles span the region: simplified twice as hard, drawn at low zoom anyway
        add("circles_by_kind", {"style": "BM.circleStyle"}, simplify=2, interactive=False)
    add("network_circle", {"style": "BM.networkStyle"}, simplify=2, interactive=False)
    _Uncovered(transform(layers["uncovered"], gcj02=gcj), name=text("uncovered", lang)).add_to(m)
    unreach = unreachable_layer(region, coverage, lang, gcj=gcj)
    if unreach["lon"]:
        UnreachableLayer(safe_json(unreach), html_text(text("unreachable_layer", lang))).add_to(m)
    if items is not None:
        ItemLayer(safe_json(item_layer_data(region, items, gcj=gcj))).add_to(m)
    if prop is not None:
        add("proposals", {"pointToLayer": "BM.proposalPoint", "onEachFeature": "BM.proposalEach"})
    outlets = add("outlets", {"pointToLayer": "BM.outletPoint",
                              "onEachFeature": "BM.outletEach"})

    search = _Search(outlets, placeholder=text("search", lang), not_found=text("not_found", lang))
    search.add_to(m)
    fs = Fullscreen(position="topleft", title=text("fullscreen", lang),
                    title_cancel=text("exit_fullscreen", lang))
    loc = LocateControl(position="topleft", icon="bm-icon-locate",
                        iconLoading="bm-icon-locate bm-spin",
                        strings={"title": text("locate", lang)}, drawCircle=True,
                        flyTo=True, keepCurrentZoomLevel=False)
    for el in (fs, loc):
        localise(el)
        el.add_to(m)
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    _Init().add_to(m)  # adds the metric-only scale
    return ServiceMap(map=m, layers=layers, options=options, tiles=tiles)


def write_map(region: Region, coverage: CoverageResult, circles: ServiceCircles,
              out_dir: str | os.PathLike, *, proposals: pd.DataFrame | None = None,
              options: MapOptions | None = None, folder: str = "map/planning",
              items: ItemCoverage | None = None,
              delegation: pd.DataFrame | None = None) -> ServiceMap:
    """Write ``out_dir/<folder>/`` (the planning map): index.html, assets/ and GeoJSON layers.

    Atomic: the folder is built beside its destination and renamed into place.

    The folder is built beside its destination and renamed into place; the old one (if any)
    is removed only after the new one is complete.

    Raises
    ------
    maps.vendor.MapBuildError
        If the page would load anything from the internet other than the chosen tiles.
    """
    sm = build_map(region, coverage, circles, proposals=proposals, options=options, items=items,
                   delegation=delegation)
    html = sm.map.get_root().render()
    check_offline(html, allowed_hosts=sm.tiles.hosts)
    final = Path(out_dir) / folder
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".map.", dir=final.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the page is meant to be served
    try:
        copy_assets(tmp)
        (tmp / "index.html").write_text(html, encoding="utf-8")
        files = {"index": final / "index.html"}
        for key, gdf in sm.layers.items():  # beside the page, always WGS-84 (RFC 7946)
            rounded = transform(gdf, gcj02=False)
            (tmp / f"{key}.geojson").write_text(to_geojson(rounded, LAYER_FIELDS[key]),
                                                encoding="utf-8")
            files[key] = final / f"{key}.geojson"
        replace_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    sm.path = final / "index.html"
    sm.files = files
    log.info("%s", sm.summary())
    return sm
