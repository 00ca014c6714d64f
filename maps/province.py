"""The province planning map by county: county polygons shaded by coverage rate (offline).

Draws only: the table (:func:`gis.partition_province.county_shapes`, ``counties.csv``'s figures
on the union of each county's areas) comes from ``gis``. Leaflet is the vendored copy the
planning map uses; no tiles are loaded, so the page works with no network.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np

from .vendor import LEAFLET_CSS, LEAFLET_JS, check_offline, copy_assets

__all__ = ["province_map", "write_province_map", "rate_colour"]

#: Coverage rate bands (lower bounds) and their fill colours, red (low) to green (high).
BANDS = [(0.0, "#d73027"), (0.5, "#fc8d59"), (0.7, "#fee08b"), (0.85, "#91cf60"),
         (0.95, "#1a9850")]


def rate_colour(rate: float) -> str:
    """The fill colour of a coverage rate (grey when there is no population)."""
    if not np.isfinite(rate):
        return "#bbbbbb"
    return [c for lo, c in BANDS if rate >= lo][-1]


def _popup(row: dict) -> str:
    """The county's figures as an escaped HTML table."""
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in row.items())
    return f"<table class='bm-province'>{cells}</table>"


def province_map(counties: gpd.GeoDataFrame, title: str = "province") -> folium.Map:
    """The folium map of ``counties`` (polygons with ``counties.csv``'s columns)."""
    g = counties.to_crs("EPSG:4326")
    w, s, e, n = g.total_bounds
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=8, tiles=None,
                   prefer_canvas=True, control_scale=False)
    m.default_js = list(LEAFLET_JS)
    m.default_css = list(LEAFLET_CSS)
    m.fit_bounds([[float(s), float(w)], [float(n), float(e)]])
    m.get_root().title = html.escape(title)  # type: ignore[attr-defined]
    fields = [c for c in g.columns if c != "geometry"]
    for rec, geom in zip(g[fields].to_dict("records"), g.geometry, strict=True):
        colour = rate_colour(float(rec.get("coverage_rate", np.nan)))
        layer = folium.GeoJson(geom.__geo_interface__, style_function=lambda _f, c=colour: {
            "fillColor": c, "color": "#444444", "weight": 1, "fillOpacity": 0.7})
        folium.Popup(_popup(rec), max_width=360).add_to(layer)
        layer.add_to(m)
    return m


def write_province_map(counties: gpd.GeoDataFrame, out_dir: str | os.PathLike,
                       title: str = "province") -> Path:
    """Write ``out_dir/index.html`` and the vendored ``assets/``; return the page's path.

    Raises
    ------
    maps.vendor.MapBuildError
        If the page would load anything from the internet.
    """
    page = province_map(counties, title).get_root().render()
    check_offline(page)
    final = Path(out_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pmap.", dir=final.parent))
    os.chmod(tmp, 0o755)
    copy_assets(tmp)
    (tmp / "index.html").write_text(page, encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final / "index.html"
