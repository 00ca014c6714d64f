"""The citizens' map (`--audience public`): where can I do this near me, and nothing else.

A plain page (no folium): Leaflet, Leaflet.markercluster and ``assets/public.js``, which draws
everything from one JSON object (:func:`maps.publicdata.public_data`) with DOM calls, never
``innerHTML`` with data. Shows outlets, what they handle, hours (open now, from the viewer's
clock), phone, address and navigation links; a search box over items, categories, outlet names,
addresses and pinyin; a list nearest first; the nearest outlet for an item in network minutes
from the precomputed grid. When the tiles fail the region's own main roads are drawn.

Only what a citizen needs reaches the folder: no population outside circles, no area coverage,
no proposals, no planning notes, in the page or any file beside it. The folder copies only the
assets this page loads (:data:`PUBLIC_ASSETS`).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gis.itemgrid import ItemGrid
from gis.items import ItemTable
from gis.outdir import replace_folder
from gis.region import Region

from .layers import encode_polylines, roads_layer
from .publicdata import public_data
from .service_map import MapOptions, _icon_css, safe_json
from .style import KIND_STYLE, kind_label, mode_label
from .tiles import tile_choice
from .vendor import ASSET_DIR, check_offline

__all__ = ["PUBLIC_ASSETS", "PUBLIC_TEXT", "PublicMap", "public_page", "write_public_map"]

log = logging.getLogger(__name__)

#: The vendored files the public page loads (and the only ones copied beside it).
PUBLIC_ASSETS = ("leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/LICENSE",
                 "markercluster/leaflet.markercluster.js", "markercluster/MarkerCluster.css",
                 "markercluster/MarkerCluster.Default.css", "markercluster/MIT-LICENCE.txt",
                 "public.js", "public.css")

#: Labels of the citizens' page (zh, en).
PUBLIC_TEXT: dict[str, tuple[str, str]] = {
    "title": ("政务服务网点", "Government service outlets"),
    "search": ("搜索事项、网点或地址（可用拼音，如 sbk）",
               "Search items, outlets or addresses (pinyin too)"),
    "locate": ("定位", "Locate me"),
    "located": ("已按您的位置排序", "Sorted by distance from you"),
    "centre": ("按地图中心排序", "Sorted by distance from the map centre"),
    "locate_failed": ("无法获取位置，按地图中心排序", "Location unavailable; sorted from the map centre"),
    "items": ("事项", "Items"),
    "outlets_hit": ("网点", "Outlets"),
    "handles": ("可办理", "Handles"),
    "address": ("地址", "Address"), "phone": ("电话", "Phone"), "hours": ("办公时间", "Hours"),
    "open": ("开放中", "Open now"), "closed": ("已关闭", "Closed now"),
    "off": ("今日休息", "Closed today"),
    "km": ("公里", "km"), "m": ("米", "m"), "min": ("分钟", "min"),
    "walk_est": ("步行约 {n} 分钟（按直线距离估算）", "about {n} min walk (estimate from straight-line distance)"),
    "nearest": ("最近可办：{o}，约 {n} 分钟（{mode}）", "Nearest for this item: {o}, about {n} min ({mode})"),
    "nav": ("导航", "Navigate"), "amap": ("高德", "Amap"), "baidu": ("百度", "Baidu"),
    "geo": ("其他地图", "Other map app"),
    "no_result": ("没有找到", "Nothing found"),
    "more": ("还有 {n} 个", "{n} more"),
    "tiles_failed": ("底图无法加载，已显示本地道路", "Base map unavailable; showing the region's roads"),
    "list": ("列表", "List"), "map": ("地图", "Map"),
    "pick": ("选择事项", "Pick an item"),
    "illustrative": ("营业时间、电话和事项为示意数据", "Hours, phones and items are illustrative"),
}


@dataclass
class PublicMap:
    """A built citizens' page: its HTML, the data it carries, where it was written."""

    html: str
    data: dict[str, Any]
    options: MapOptions
    path: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: outlets, items, grid cells, where."""
        d = self.data
        g = d.get("grid")
        where = f" → {self.path}" if self.path else ""
        cells = f", {len(g['cells'])} grid cells" if g else ""
        return f"public map: {len(d['outlets'])} outlets, {len(d['items'])} items{cells}{where}"


def _roads_json(region: Region, simplify_m: float) -> dict[str, list[str]]:
    roads = roads_layer(region, simplify_m)
    major = roads["major"].to_numpy(bool) if len(roads) else np.zeros(0, bool)
    geoms = roads.geometry.values
    return {"major": encode_polylines(geoms[major]), "minor": []}


def public_page(region: Region, items: ItemTable | None = None, grid: ItemGrid | None = None,
                *, options: MapOptions | None = None,
                today: dt.date | None = None) -> PublicMap:
    """Build the citizens' page (nothing is written).

    Parameters
    ----------
    region
        The loaded region.
    items
        Its item table (:func:`gis.items.items_of_region`), or ``None``.
    grid
        The nearest-outlet grid for the same items (:func:`gis.itemgrid.item_grid_of_region`).
    options
        Language and tiles (``max_outlet_circles`` is not used: the public page draws no
        circles).
    today
        First day of the holiday list shipped with the page (default today).
    """
    options = options or MapOptions()
    lang = options.lang
    tiles = tile_choice(options.tiles, lang=lang, key=options.tianditu_key)
    data = public_data(region, items, grid, gcj02=tiles.gcj02, today=today)
    w, s, e, n = region.bbox()
    sx, sy = data["shift"]
    data["bounds"] = [[s + sy, w + sx], [n + sy, e + sx]]
    data["roads"] = _roads_json(region, max(options.simplify_m, 15.0))
    data["tiles"] = [{"url": t.url, "attribution": t.attribution, "subdomains": t.subdomains}
                     for t in tiles.layers]
    data["attribution"] = tiles.data_attribution
    data["lang"] = lang
    data["title"] = f"{region.name} {PUBLIC_TEXT['title'][0 if lang == 'zh' else 1]}"
    data["T"] = {k: v[0 if lang == "zh" else 1] for k, v in PUBLIC_TEXT.items()}
    data["kinds"] = {k: {"colour": v[0], "label": kind_label(k, lang)}
                     for k, v in KIND_STYLE.items()}
    data["modes"] = {m: mode_label(m, lang) for m in ("walk", "ebike", "drive")}
    data["illustrative"] = bool("illustrative" in region.outlets and
                                region.outlets["illustrative"].fillna(False).astype(bool).any())
    title = html.escape(data["title"], quote=True)
    ph = html.escape(data["T"]["search"], quote=True)
    page = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<link rel="stylesheet" href="assets/leaflet/leaflet.css">
<link rel="stylesheet" href="assets/markercluster/MarkerCluster.css">
<link rel="stylesheet" href="assets/markercluster/MarkerCluster.Default.css">
<link rel="stylesheet" href="assets/public.css">
{_icon_css()}
</head><body>
<div id="bm-app">
<div id="bm-panel">
<h1 id="bm-title"></h1>
<div class="bm-bar"><input type="search" id="bm-q" placeholder="{ph}" aria-label="{ph}"
 autocomplete="off"><button type="button" id="bm-locate"></button>
<button type="button" id="bm-toggle"></button></div>
<div id="bm-status" role="status"></div>
<div id="bm-nearest" hidden></div>
<div id="bm-items"></div>
<ol id="bm-list"></ol>
</div>
<div id="bm-map"></div>
</div>
<div id="bm-notice" role="alert" hidden></div>
<script>window.BM_DATA = {safe_json(data)};</script>
<script src="assets/leaflet/leaflet.js"></script>
<script src="assets/markercluster/leaflet.markercluster.js"></script>
<script src="assets/public.js"></script>
</body></html>
"""
    check_offline(page, allowed_hosts=tiles.hosts)
    return PublicMap(html=page, data=data, options=options)


def write_public_map(region: Region, out_dir: str | os.PathLike, *,
                     items: ItemTable | None = None, grid: ItemGrid | None = None,
                     options: MapOptions | None = None, folder: str = "map/public",
                     today: dt.date | None = None) -> PublicMap:
    """Write ``out_dir/<folder>/``: index.html and the few assets it loads, atomically.

    Raises
    ------
    maps.vendor.MapBuildError
        If the page would load anything from the internet other than the chosen tiles.
    """
    pm = public_page(region, items, grid, options=options, today=today)
    final = Path(out_dir) / folder
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".public.", dir=final.parent))
    os.chmod(tmp, 0o755)
    try:
        for rel in PUBLIC_ASSETS:
            dest = tmp / "assets" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ASSET_DIR / rel, dest)
        (tmp / "index.html").write_text(pm.html, encoding="utf-8")
        replace_folder(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pm.path = final / "index.html"
    pm.files = {"index": pm.path}
    log.info("%s", pm.summary())
    return pm
