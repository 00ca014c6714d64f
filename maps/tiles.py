"""Base maps: OpenStreetMap, Tianditu (天地图), Amap (高德, GCJ-02) or none (the region's roads).

Tianditu is what a Chinese government site is expected to use; it needs a browser key
(``--tianditu-key`` or ``$TIANDITU_KEY``) and is drawn as its vector layer plus the label overlay.
Amap tiles are drawn in GCJ-02, so every overlay is shifted WGS-84 → GCJ-02 (``gcj02=True``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from gis.errors import InputError, InputProblem

__all__ = ["TileLayerSpec", "TileChoice", "tile_choice", "OSM_ATTRIBUTION", "OPTIONS"]

#: What problems with the map options name as their "file".
OPTIONS = "map options"

OSM_ATTRIBUTION = ('© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                   "contributors")


@dataclass(frozen=True)
class TileLayerSpec:
    """One tile layer."""

    url: str
    attribution: str
    name: str
    subdomains: str = "abc"
    overlay: bool = False


@dataclass(frozen=True)
class TileChoice:
    """The base map: tile layers, hosts the page may call, datum, data attribution."""

    layers: tuple[TileLayerSpec, ...]
    hosts: tuple[str, ...]
    gcj02: bool
    data_attribution: str


def tile_choice(name: str, *, lang: str = "zh", key: str | None = None) -> TileChoice:
    """The tile set called ``name`` (osm, tianditu, amap, none).

    Raises
    ------
    gis.errors.InputError
        Tianditu without a key, or an unknown name.
    """
    zh = lang == "zh"
    if name == "osm":
        return TileChoice(
            layers=(TileLayerSpec("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                  OSM_ATTRIBUTION, "OpenStreetMap", subdomains="abc"),),
            hosts=("tile.openstreetmap.org",), gcj02=False, data_attribution=OSM_ATTRIBUTION)
    if name == "tianditu":
        key = key or os.environ.get("TIANDITU_KEY")
        if not key:
            raise InputError(InputProblem(OPTIONS, None, "tianditu_key",
                                          "Tianditu tiles need a key: give the tianditu-key "
                                          "option or set TIANDITU_KEY (free from "
                                          "https://console.tianditu.gov.cn), or choose tiles "
                                          "osm, amap or none"))
        attr = '© <a href="https://www.tianditu.gov.cn">天地图 Tianditu</a>'
        label = "cva" if zh else "eva"  # Chinese or English place-name labels

        def url(layer: str) -> str:
            return (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                    f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                    f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")

        return TileChoice(
            layers=(TileLayerSpec(url("vec"), attr, "天地图 Tianditu", subdomains="01234567"),
                    TileLayerSpec(url(label), attr, "天地图注记 labels", subdomains="01234567",
                                  overlay=True)),
            hosts=("tianditu.gov.cn",), gcj02=False, data_attribution=OSM_ATTRIBUTION)
    if name == "amap":
        lang_q = "zh_cn" if zh else "en"
        return TileChoice(
            layers=(TileLayerSpec(
                f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang_q}&size=1&scale=1"
                "&style=8&x={x}&y={y}&z={z}",
                '© <a href="https://www.amap.com">高德地图 AutoNavi</a>', "高德 Amap",
                subdomains="1234"),),
            hosts=("is.autonavi.com",), gcj02=True, data_attribution=OSM_ATTRIBUTION)
    if name == "none":
        return TileChoice(layers=(), hosts=(), gcj02=False, data_attribution=OSM_ATTRIBUTION)
    raise InputError(InputProblem(OPTIONS, None, "tiles",
                                  f"unknown tiles {name!r}: expected osm, tianditu, amap or none"))
