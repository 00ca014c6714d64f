"""The published service map: offline folder, CDN check, tiles, GCJ-02 shift, no personal data,
and (marked ``browser``) the page itself in headless Chromium."""

from __future__ import annotations

import contextlib
import json
import re
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pytest
from typer.testing import CliRunner

from gis.circles import circles_of_region
from gis.coverage import coverage_of_region
from gis.errors import InputError
from gis.region import load_region
from maps import MapBuildError, MapOptions, build_map, write_map
from maps.service_map import LAYER_FIELDS, _GeoLayer
from maps.vendor import check_offline, localise
from tests.conftest import DATA

pytestmark = pytest.mark.xdist_group("map")  # one worker builds the map once

SENTINEL_NAME = "张秘密跑腿员"
SENTINEL_PHONE = "13912345678"
SENTINEL_RESIDENT = "李私人居民"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Chengdu with errands/runners files beside it, its coverage, circles and a written map."""
    root = tmp_path_factory.mktemp("map")
    reg_dir = root / "chengdu"
    shutil.copytree(DATA / "chengdu", reg_dir)
    pd.DataFrame({"id": ["E1"], "contact_name": [SENTINEL_RESIDENT],
                  "contact_phone": [SENTINEL_PHONE], "address": ["秘密地址 1 号"],
                  "lon": [104.07], "lat": [30.68]}).to_csv(reg_dir / "errands.csv", index=False)
    pd.DataFrame({"id": ["R1"], "name": [SENTINEL_NAME], "phone": [SENTINEL_PHONE],
                  "mode": ["walk"]}).to_csv(reg_dir / "runners.csv", index=False)
    toml = (reg_dir / "region.toml").read_text(encoding="utf-8")
    toml = toml.replace("[files]\n", '[files]\nerrands = "errands.csv"\nrunners = "runners.csv"\n')
    (reg_dir / "region.toml").write_text(toml, encoding="utf-8")
    region = load_region(reg_dir)
    coverage = coverage_of_region(region)
    circles = circles_of_region(region)
    first = region.outlets.iloc[0]
    proposals = pd.DataFrame({"site_id": ["S1", "S2"], "name": ["建议站点一", "建议站点二"],
                              "kind": ["community_station"] * 2,
                              "lon": [first.lon + 0.01, first.lon - 0.01],
                              "lat": [first.lat + 0.01, first.lat - 0.005],
                              "added_population": [12000.0, 8000.0], "rank": [1, 2]})
    out = root / "out"
    sm = write_map(region, coverage, circles, out, proposals=proposals,
                   options=MapOptions(tiles="none"))
    return {"region": region, "coverage": coverage, "circles": circles, "map": sm,
            "dir": out / "map" / "planning", "proposals": proposals, "root": root}


def _layer(sm, key_label: str) -> dict:
    for child in sm.map._children.values():
        if isinstance(child, _GeoLayer) and child.layer_name == key_label:
            return json.loads(child.data_js)
    raise KeyError(key_label)


def test_folder_is_self_contained(built):
    """index.html, its assets and the GeoJSON layers are written; every link is local."""
    d = built["dir"]
    html = (d / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    local = [u for u in links if not u.startswith(("http", "tel:", "#"))]
    assert any(u.endswith("leaflet.js") for u in local)
    for u in local:
        assert (d / u).is_file(), u
    for key in ("outlets", "circles", "circles_by_kind", "network_circle", "areas", "uncovered",
                "proposals", "roads"):
        gj = json.loads((d / f"{key}.geojson").read_text(encoding="utf-8"))
        assert gj["type"] == "FeatureCollection"
    assert (d / "assets" / "LICENSES.md").is_file()
    for host in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com",
                 "bootstrapcdn.com", "unpkg.com"):
        assert host not in html
    assert "OpenStreetMap" in html
    assert not list(d.parent.glob(".map.*"))


def test_no_personal_data(built):
    """Errands and runners never reach the page or its GeoJSON; layers keep to their fields."""
    for f in built["dir"].rglob("*"):
        if f.suffix in (".html", ".geojson", ".js"):
            text = f.read_text(encoding="utf-8")
            for s in (SENTINEL_NAME, SENTINEL_PHONE, SENTINEL_RESIDENT, "秘密地址"):
                assert s not in text, (s, f)
    for key, fields in LAYER_FIELDS.items():
        path = built["dir"] / f"{key}.geojson"
        if path.exists():
            gj = json.loads(path.read_text(encoding="utf-8"))
            for feat in gj["features"]:
                assert set(feat["properties"]) <= set(fields), key


def test_outlets_layer_matches_circles(built):
    """One outlet feature per outlet, with its circle and the population counted inside it."""
    gj = json.loads((built["dir"] / "outlets.geojson").read_text(encoding="utf-8"))
    props = pd.DataFrame([f["properties"] for f in gj["features"]]).set_index("id")
    c = built["circles"].outlets.set_index("outlet_id")
    assert len(props) == len(built["region"].outlets)
    assert np.allclose(props.loc[c.index, "population"], np.round(c["population"]))
    assert set(props["circle_label"]) <= {"15 分钟步行", "30 分钟电动自行车"}


@pytest.mark.parametrize("bad", [
    '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>',
    '<link href="https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/x.css"/>',
    '<script src="//code.jquery.com/jquery-3.7.1.min.js"></script>',
    'L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png")',
    '<img src="http://example.org/a.png">',
])
def test_check_offline_refuses_internet_addresses(bad):
    """Any CDN or unknown address (or tiles not chosen) fails the build."""
    with pytest.raises(MapBuildError, match="internet"):
        check_offline(f"<html>{bad}</html>")


def test_check_offline_allows_links_and_chosen_tiles():
    """Attribution links, the SVG namespace and the chosen tile host pass."""
    check_offline('<a href="https://www.openstreetmap.org/copyright">OSM</a>'
                  '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
                  'L.tileLayer("https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=1")',
                  allowed_hosts=("tianditu.gov.cn",))


def test_unvendored_plugin_fails():
    """A folium plugin with CDN files and no vendored copy cannot be localised."""
    from folium.plugins import MiniMap

    with pytest.raises(MapBuildError, match="MiniMap"):
        localise(MiniMap())


def test_amap_shifts_every_overlay_to_gcj02(built):
    """With Amap tiles the outlets are drawn in GCJ-02, as prcoords computes it (±1e-5°)."""
    sm = build_map(built["region"], built["coverage"], built["circles"],
                   options=MapOptions(tiles="amap", lang="en"))
    data = _layer(sm, "Service outlets")
    got = np.array([f["geometry"]["coordinates"] for f in data["features"]])
    o = built["region"].outlets
    want = np.array([(c.lon, c.lat) for c in (prcoords.wgs_gcj(prcoords.Coords(la, lo))
                                              for lo, la in zip(o["lon"], o["lat"], strict=True))])
    assert np.abs(got - want).max() < 1.1e-5
    assert np.abs(got - o[["lon", "lat"]].to_numpy()).max() > 1e-3  # really shifted
    html = sm.map.get_root().render()
    check_offline(html, allowed_hosts=sm.tiles.hosts)
    assert "autonavi.com" in html and "lang=en" in html


def test_tianditu_needs_a_key(built, monkeypatch):
    """No key: a clear error; a key: vector layer and label overlay (English labels in en)."""
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match="tianditu-key"):
        build_map(built["region"], built["coverage"], built["circles"],
                  options=MapOptions(tiles="tianditu"))
    monkeypatch.setenv("TIANDITU_KEY", "abc123")
    sm = build_map(built["region"], built["coverage"], built["circles"],
                   options=MapOptions(tiles="tianditu", lang="en"))
    html = sm.map.get_root().render()
    check_offline(html, allowed_hosts=sm.tiles.hosts)
    assert "LAYER=vec" in html and "LAYER=eva" in html and "tk=abc123" in html


def test_many_outlets_draw_circles_by_kind(built):
    """Past max_outlet_circles the page draws each kind's merged circle instead."""
    sm = build_map(built["region"], built["coverage"], built["circles"],
                   options=MapOptions(tiles="none", max_outlet_circles=3))
    kinds = _layer(sm, "服务圈(按类型)")
    assert len(kinds["features"]) == built["region"].outlets["kind"].nunique()
    with pytest.raises(KeyError):
        _layer(sm, "服务圈(各网点)")


def test_hostile_names_are_inert(built):
    """A name with HTML or Jinja delimiters neither breaks the build nor closes the script.

    It stays a JSON string in the page; popups escape it when they draw it (``BM.esc``).
    """
    import dataclasses

    evil = '<img src=x onerror=alert(1)></script>{{ 7*7 }}{% if %}{#'
    region = dataclasses.replace(built["region"], outlets=built["region"].outlets.copy())
    region.outlets.loc[region.outlets.index[0], "name"] = evil
    circles = dataclasses.replace(built["circles"], outlets=built["circles"].outlets.copy())
    circles.outlets.loc[circles.outlets.index[0], "name"] = evil
    sm = build_map(region, built["coverage"], circles, options=MapOptions(tiles="none"))
    html = sm.map.get_root().render()
    assert "onerror=alert(1)></script>" not in html  # the page's script is not closed early
    assert "{{ 7*7 }}" not in html and "49" not in html.split("onerror")[1][:60]  # no Jinja
    names = [f["properties"]["name"] for f in _layer(sm, "服务网点")["features"]]
    assert evil in names


def test_chain_segments_keeps_every_segment_once():
    """Roads chained straight through crossings: fewer lines, the same segments exactly."""
    import shapely

    from gis.synthetic import grid_network
    from maps.layers import chain_segments

    net = grid_network(900, seed=3)
    u, v, _, _ = net.edges("walk")
    key = np.unique(np.minimum(u, v) * net.n_nodes + np.maximum(u, v))
    a, b = key // net.n_nodes, key % net.n_nodes
    lines = chain_segments(a, b, net.lon, net.lat)
    assert len(lines) < len(key) / 5
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    lut = {(x, y): i for i, (x, y) in enumerate(zip(net.lon.tolist(), net.lat.tolist(),
                                                    strict=True))}
    nodes = np.array([lut[(x, y)] for x, y in xy.tolist()])
    same = idx[1:] == idx[:-1]
    p, q = nodes[:-1][same], nodes[1:][same]
    got = np.sort(np.minimum(p, q) * net.n_nodes + np.maximum(p, q))
    assert np.array_equal(got, key)


def test_english_labels(built):
    """--lang en: English labels and kind names in the page's config."""
    sm = build_map(built["region"], built["coverage"], built["circles"],
                   options=MapOptions(tiles="none", lang="en"))
    html = sm.map.get_root().render()
    assert "Search outlets by name" in html and "Post office" in html
    assert "搜索网点名称" not in html


def test_write_is_atomic(built, monkeypatch):
    """A failed build leaves the previous map untouched and no temp folder behind."""
    out = built["root"] / "atomic"
    (out / "map" / "planning").mkdir(parents=True)
    (out / "map" / "planning" / "index.html").write_text("old", encoding="utf-8")

    def boom(*a, **k):
        raise MapBuildError("the page would load https://cdn.example.org from the internet")

    monkeypatch.setattr("maps.service_map.check_offline", boom)
    with pytest.raises(MapBuildError):
        write_map(built["region"], built["coverage"], built["circles"], out,
                  options=MapOptions(tiles="none"))
    assert (out / "map" / "planning" / "index.html").read_text(encoding="utf-8") == "old"
    assert not list((out / "map").glob(".map.*"))


def test_bad_proposals_table(built):
    """A proposals table without its columns is refused, naming the column."""
    with pytest.raises(InputError, match="added_population"):
        build_map(built["region"], built["coverage"], built["circles"],
                  proposals=built["proposals"].drop(columns="added_population"),
                  options=MapOptions(tiles="none"))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lang": "fr"}, "lang"), ({"tiles": "google"}, "tiles"), ({"simplify_m": -1}, "simplify"),
])
def test_bad_options(kwargs, match):
    """Options check themselves."""
    with pytest.raises(ValueError, match=match):
        MapOptions(**kwargs)


def test_cli_tianditu_without_key_exits_2(monkeypatch, tmp_path):
    """`bianmin map --tiles tianditu` without a key: one-line reason, exit code 2."""
    from bianmin.cli import app

    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    res = CliRunner().invoke(app, ["map", "--tiles", "tianditu", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "tianditu" in res.output.lower()


def test_cli_writes_the_map(tmp_path):
    """`bianmin map --tiles none` writes OUT/map/index.html for a bundled region."""
    from bianmin.cli import app

    res = CliRunner().invoke(app, ["map", "--region", str(DATA / "andorra"), "--tiles", "none",
                                   "--lang", "en", "--out", str(tmp_path), "-q",
                                   "--audience", "planning"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "map" / "planning" / "index.html").is_file()
    gj = gpd.read_file(tmp_path / "map" / "planning" / "outlets.geojson")
    assert len(gj) == 2
    # the public map next (the default audience): the planning folder is kept beside it
    res = CliRunner().invoke(app, ["map", "--region", str(DATA / "andorra"), "--tiles", "none",
                                   "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "map" / "public" / "index.html").is_file()
    assert (tmp_path / "map" / "planning" / "outlets.geojson").is_file()


# ------------------------------------------------------------------------------ browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def _opened(browser, built, width: int, height: int):
    """The built map in a fresh browser context: ``(page, outside requests, JS errors)``."""
    ctx = browser.new_context(viewport={"width": width, "height": height},
                              device_scale_factor=1, is_mobile=width < 600,
                              has_touch=width < 600)
    try:
        page = ctx.new_page()
        folder = built["dir"].resolve().as_uri()
        outside: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(folder + "/") or
                r.url.startswith("data:") else outside.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((built["dir"] / "index.html").resolve().as_uri())
        page.wait_for_function("window.BM_READY === true", timeout=15_000)
        yield page, outside, errors
    finally:
        ctx.close()


def _search(page, text: str) -> None:
    box = page.locator(".leaflet-control-search input.search-input")
    box.fill(text)
    box.press("PageDown")  # a key-up, as an IME sends after composing; leaflet-search listens
    page.wait_for_selector(".search-tip", timeout=5_000)
    box.press("Enter")
    page.wait_for_selector(".leaflet-popup-content", timeout=5_000)


@pytest.mark.browser
def test_page_loads_offline_with_every_outlet(browser, built):
    """file://, tiles none: no request outside the folder, no JS error, one marker per outlet."""
    with _opened(browser, built, 1280, 800) as (page, outside, errors):
        assert page.locator(".bm-outlet").count() == len(built["region"].outlets)
        bg = page.eval_on_selector(".bm-outlet", "e => getComputedStyle(e).backgroundImage")
        assert "data:image/svg+xml" in bg  # the kind's icon really paints the marker
        assert page.locator(".bm-proposal").count() == len(built["proposals"])
        assert page.locator(".leaflet-control-scale").count() == 1
        assert page.locator(".leaflet-control-scale-line").count() == 1  # metres only
        assert page.locator(".leaflet-control-layers").count() == 1
        assert page.locator(".leaflet-control-locate").count() == 1
        assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
        assert "OpenStreetMap" in page.inner_text(".leaflet-control-attribution")
        assert page.locator(".bm-legend").count() == 1
        overlays = page.text_content(".leaflet-control-layers-overlays")
        for label in ("服务网点", "服务圈(各网点)", "服务圈合计", "圈外人口", "各区域覆盖率",
                      "建议新增网点"):
            assert label in overlays
        page.screenshot(path=str(built["root"] / "map-desktop.png"))
        assert outside == [] and errors == []


@pytest.mark.browser
def test_chinese_search_opens_the_popup(browser, built):
    """Typing part of a Chinese name finds the outlet and opens its popup."""
    with _opened(browser, built, 1280, 800) as (page, outside, errors):
        name = str(built["region"].outlets["name"].iloc[0])
        _search(page, name[:2])
        text = page.inner_text(".leaflet-popup-content")
        assert name in text and "服务圈" in text
        assert outside == [] and errors == []


@pytest.mark.browser
def test_phone_viewport(browser, built):
    """390×844: no minimap, legend folded, the search box leaves the popup in clear view."""
    with _opened(browser, built, 390, 844) as (page, outside, errors):
        assert page.locator(".leaflet-control-minimap").count() == 0
        assert page.eval_on_selector(".bm-legend details", "d => d.open") is False
        name = str(built["region"].outlets["name"].iloc[-1])
        _search(page, name)
        page.wait_for_timeout(400)  # popup fade-in and auto-pan
        popup = page.locator(".leaflet-popup-content-wrapper").bounding_box()
        search = page.locator(".leaflet-control-search").bounding_box()
        assert popup is not None and search is not None
        assert popup["x"] >= 0 and popup["x"] + popup["width"] <= 390
        assert popup["y"] >= search["y"] + search["height"]  # below the search box
        assert popup["y"] + popup["height"] <= 844
        page.screenshot(path=str(built["root"] / "map-phone.png"))
        assert outside == [] and errors == []
