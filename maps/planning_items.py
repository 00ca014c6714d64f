"""The planning map's item, unreachable and delegation parts (issues #12, #13, #14).

Reads results, computes nothing: per-item uncovered points come from
:func:`gis.items.uncovered_by_set` (one index array per distinct outlet set), unreachable points
and their reasons from :attr:`gis.coverage.CoverageResult.unreachable`, the delegated items from
``OUT/delegation/chosen.csv``. Each is sent to the page as compact columns and drawn by the
functions in ``assets/bianmin.js``; every text is escaped there (``BM.esc``) or set as text.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from gis.coverage import CoverageResult
from gis.items import ItemCoverage, uncovered_by_set
from gis.region import Region
from gis.siting.maptables import DELEGATION_COLUMNS, check_delegation

from .layers import transform

__all__ = ["DELEGATION_COLUMNS", "ItemLayer", "UnreachableLayer", "delegated_items",
           "item_layer_data", "unreachable_layer"]


#: Reason code → (中文, English) label shown in the unreachable popup.
REASONS = {
    "too_far_from_road": ("离道路太远", "too far from any road"),
    "island_without_outlet": ("所在路网孤岛上没有网点", "on a road island with no outlet"),
    "no_outlet": ("区域内没有网点", "the region has no outlets"),
}


def _points(region: Region, idx: np.ndarray, gcj: bool) -> dict[str, list]:
    """lon/lat/population/area columns of demand points ``idx`` (shifted to GCJ-02 if asked)."""
    d = region.demand.iloc[idx]
    names = dict(zip(region.areas["id"].astype(str), region.areas["name"].astype(str),
                     strict=True))
    gdf = gpd.GeoDataFrame({"population": d["population"].to_numpy(float)},
                           geometry=gpd.points_from_xy(d["lon"].to_numpy(float),
                                                       d["lat"].to_numpy(float)), crs=4326)
    xy = shapely.get_coordinates(transform(gdf, gcj02=gcj).geometry.values)
    areas, area_idx = np.unique([names.get(str(a), str(a)) for a in d["area_id"]],
                                return_inverse=True)
    return {"lon": xy[:, 0].tolist(), "lat": xy[:, 1].tolist(),
            "pop": np.round(gdf["population"].to_numpy()).astype(int).tolist(),
            "area": area_idx.astype(int).tolist(), "areas": areas.tolist()}


def item_layer_data(region: Region, ic: ItemCoverage, *, gcj: bool = False) -> dict:
    """What the item selector needs: items worst first, and per outlet set its uncovered points.

    ``sets[s]`` lists indices into the point columns; item ``i`` draws ``sets[items[i].g]``.
    Only points uncovered for some item are sent, once.
    """
    per_set = uncovered_by_set(ic)
    used = (np.unique(np.concatenate(per_set)) if per_set else np.zeros(0, np.int32))
    remap = np.full(len(region.demand), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    it = ic.items.assign(g=ic.item_set).sort_values(
        ["coverage_rate", "weight"], ascending=[True, False], kind="stable")
    items = [{"id": str(r.item_id), "n": str(r.item_name), "c": str(r.category),
              "g": int(r.g), "o": int(r.outlets),
              "r": None if r.coverage_rate != r.coverage_rate else float(r.coverage_rate),
              "u": float(round(r.population - r.covered_population))}
             for r in it.itertuples(index=False)]
    return {"items": items, "sets": [remap[s].tolist() for s in per_set],
            "points": _points(region, used, gcj)}


def unreachable_layer(region: Region, coverage: CoverageResult, lang: str,
                      *, gcj: bool = False) -> dict:
    """Unreachable demand points with their reason (label and detail) as columns."""
    u = coverage.unreachable
    pos = pd.Index(region.demand["id"].astype(str)).get_indexer(u["demand_id"].astype(str))
    pts = _points(region, pos[pos >= 0], gcj) if len(u) else _points(region, np.zeros(0, int),
                                                                     gcj)
    u = u[pos >= 0]
    k = 0 if lang == "zh" else 1
    codes = u["unreachable_reason"].fillna("").astype(str).tolist()
    pts["reason"] = [REASONS[c][k] if c in REASONS else c for c in codes]
    pts["code"] = codes
    pts["detail"] = u["unreachable_detail"].fillna("").astype(str).tolist()
    pts["snap"] = [None if v != v else round(float(v)) for v in u["snap_m"].tolist()]
    return pts


def delegated_items(chosen: pd.DataFrame | None) -> dict[str, list[str]]:
    """Outlet id → names of the items a delegation gives it, in the delegation's rank order."""
    if chosen is None or len(chosen) == 0:
        return {}
    df = check_delegation(chosen)
    if "rank" in df:
        df = df.sort_values("rank", kind="stable")
    out: dict[str, list[str]] = {}
    for o, name in zip(df["outlet_id"].astype(str), df["item_name"].astype(str), strict=True):
        out.setdefault(o, []).append(name)
    return out


class ItemLayer(MacroElement):
    """The item selector and the layer of the chosen item's uncovered population."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        BM.itemLayer({{ this._parent.get_name() }}, {{ this.data_js }});
        {% endmacro %}
    """)

    def __init__(self, data_js: str) -> None:
        super().__init__()
        self._name = "ItemLayer"
        self.data_js = data_js


class UnreachableLayer(folium.map.Layer):
    """Unreachable population with the reason, a layer in the layer control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = BM.unreachableLayer({{ this.data_js }});
        {% endmacro %}
    """)

    def __init__(self, data_js: str, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "Unreachable"
        self.data_js = data_js
