"""The citizens' map (issue #14): no planning data in its folder, search keys, the item grid,
and (marked ``browser``) search, nearest first, navigation links, open now and the roads
fallback in headless Chromium."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pytest
import shapely

from gis.circles import circles_of_region
from gis.coverage import coverage_of_region
from gis.itemgrid import item_grid, item_grid_of_region
from gis.items import ItemTable, items_of_region
from gis.network import RoadNetwork
from gis.region import RegionSettings, load_region
from maps import MapOptions, write_map
from maps.public import write_public_map
from maps.publicdata import pinyin_keys
from tests.conftest import DATA
from tests.test_map import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.xdist_group("map")

#: Words only the planning layers use (zh labels, GeoJSON property names, JS function names).
PLANNING_WORDS = ("圈外人口", "建议新增", "覆盖率", "各区域", "uncovered", "proposal",
                  "coverage_rate", "covered_population", "added_population", "circle_label")
TODAY = dt.date(2025, 6, 1)  # the holiday list shipped covers the mocked dates below


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Chengdu: the planning map (with proposals) and the public map written side by side."""
    root = tmp_path_factory.mktemp("public")
    region = load_region(DATA / "chengdu")
    coverage = coverage_of_region(region)
    assert len(coverage.uncovered) > 0  # there are people outside their circle to leak
    first = region.outlets.iloc[0]
    proposals = pd.DataFrame({"site_id": ["SITE-Q7X"], "name": ["建议站点工商银行某支行"],
                              "kind": ["bank"], "lon": [first.lon + 0.01],
                              "lat": [first.lat + 0.01], "added_population": [12345.0],
                              "rank": [1]})
    out = root / "out"
    write_map(region, coverage, circles_of_region(region), out, proposals=proposals,
              options=MapOptions(tiles="none"))
    items = items_of_region(region)
    grid = item_grid_of_region(region, items)
    pm = write_public_map(region, out, items=items, grid=grid,
                          options=MapOptions(tiles="none"), today=TODAY)
    return {"region": region, "coverage": coverage, "proposals": proposals, "items": items,
            "grid": grid, "pm": pm, "dir": out / "map" / "public", "out": out, "root": root}


def test_public_folder_has_no_planning_data(built):
    """No proposal, area, uncovered point or planning word in any file of the public folder."""
    region, cov = built["region"], built["coverage"]
    planning = built["out"] / "map" / "planning"
    assert "建议站点工商银行某支行" in (planning / "proposals.geojson").read_text(encoding="utf-8")
    needles = list(PLANNING_WORDS) + ["建议站点工商银行某支行", "SITE-Q7X", "12345"]
    needles += [str(n) for n in region.areas["name"]]
    # the population of the largest uncovered points, as the planning layer writes them
    big = np.round(cov.uncovered["population"].to_numpy(float))
    needles += [f'"population":{int(p)}' for p in np.sort(big)[-3:]]
    files = [f for f in built["dir"].rglob("*") if f.is_file()]
    assert any(f.name == "index.html" for f in files)
    for f in files:
        text = f.read_bytes().decode("utf-8", errors="replace")
        for s in needles:
            assert s not in text, (s, f.name)
    data = built["pm"].data
    assert set(data["outlets"][0]) == {"id", "n", "k", "a", "t", "h", "s", "p", "i", "ll", "xy",
                                       "gl", "bl"}
    assert "population" not in json.dumps(data, ensure_ascii=False)


def test_public_folder_only_loads_its_assets(built):
    """Every file the page loads is in the folder; nothing else is copied beside it."""
    html = (built["dir"] / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert links and all((built["dir"] / u).is_file() for u in links)
    shipped = {f.relative_to(built["dir"]).as_posix() for f in built["dir"].rglob("*")
               if f.is_file()}
    assert "assets/bianmin.js" not in shipped and "assets/markercluster/MIT-LICENCE.txt" in shipped
    size = sum((built["dir"] / f).stat().st_size for f in shipped)
    assert size < 1_500_000, size  # the default region's budget, grid included


@pytest.mark.parametrize(("text", "full", "ini"), [
    ("社保卡", "shebaoka", "sbk"), ("交大邮局", "jiaodayouju", "jdyj"), ("A1 窗口", "a1chuangkou", "a1ck"),
])
def test_pinyin_keys(text, full, ini):
    """Full pinyin and initials, lower case, letters and digits kept."""
    assert pinyin_keys(text) == (full, ini)


def _line_network():
    """Five nodes 0.01° of longitude apart at 30° N; each walk edge takes 10 minutes."""
    lon = 104.0 + 0.01 * np.arange(5)
    lat = np.full(5, 30.0)
    u = np.r_[np.arange(4), np.arange(1, 5)]
    v = np.r_[np.arange(1, 5), np.arange(4)]
    return RoadNetwork.from_edges(lon=lon, lat=lat, edges={"walk": (u, v, np.full(8, 600.0)),
                                                           "ebike": (u, v, np.full(8, 300.0))})


def test_item_grid_on_a_hand_built_line():
    """Nearest outlet per item group and its minutes, worked out by hand on a line."""
    net = _line_network()
    outlets = pd.DataFrame({"id": ["A", "B"], "lon": [104.0, 104.04], "lat": [30.0, 30.0]})
    areas = gpd.GeoDataFrame({"id": ["z"], "urban": [True]},
                             geometry=[shapely.box(103.9, 29.9, 104.1, 30.1)], crs=4326)
    cat = pd.DataFrame({"id": ["X", "Y"], "name": ["只在甲", "两处都有"]})
    items = ItemTable(cat, np.array([[True, True], [False, True]]))
    g = item_grid(net, RegionSettings(), outlets, areas, items, cell_m=200)
    assert len(g.cells) == 5 and g.n_groups == 2
    rows = g.cell_of(net.lon, net.lat)
    assert (rows >= 0).all()
    gx, gy = g.item_group
    # item X: only A, node k is k edges (10 min each) away, plus the walk from the cell centre
    assert g.nearest[rows, gx].tolist() == [0, 0, 0, 0, 0]
    mins = g.minutes[rows, gx]
    assert np.all(mins >= 10 * np.arange(5)) and np.all(mins <= 10 * np.arange(5) + 2.5)
    # item Y: A for nodes 0-1, B for nodes 3-4; node 2 is a tie and goes to the first outlet
    assert g.nearest[rows, gy].tolist() == [0, 0, 0, 1, 1]
    assert np.all(g.minutes[rows, gy] <= np.array([0, 10, 20, 10, 0]) + 2.5)
    assert g.cell_of(np.array([110.0]), np.array([30.0])).tolist() == [-1]
    # rural cells travel by the rural circle's mode (e-bike: 5 min an edge)
    rural = areas.assign(urban=False)
    g2 = item_grid(net, RegionSettings(), outlets, rural, items, cell_m=200)
    r2 = g2.cell_of(net.lon, net.lat)
    assert set(g2.mode.tolist()) == {"ebike"}
    assert np.all(g2.minutes[r2, g2.item_group[0]] <= 5 * np.arange(5) + 2.5)


def test_item_grid_matches_the_chengdu_catalogue(built):
    """One grid group per distinct outlet set; every reached cell names an outlet of its set."""
    g, items = built["grid"], built["items"]
    masks, item_set = items.outlet_sets()
    assert g.n_groups == masks.shape[1] and np.array_equal(g.item_group, item_set)
    ok = g.nearest >= 0
    assert ok.mean() > 0.9
    for s in range(g.n_groups):
        assert masks[g.nearest[ok[:, s], s], s].all()
    assert np.all(np.isfinite(g.minutes[ok]))


# ------------------------------------------------------------------------------ browser
@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def opened(browser, folder, *, width=1280, height=800, at=None, when=None, block_tiles=False):
    """The public page: ``(page, outside requests, JS errors)``; optional geolocation/clock."""
    ctx = browser.new_context(viewport={"width": width, "height": height},
                              is_mobile=width < 600, has_touch=width < 600,
                              timezone_id="Asia/Shanghai",
                              geolocation=None if at is None else {"longitude": at[0],
                                                                   "latitude": at[1]},
                              permissions=["geolocation"] if at is not None else [])
    try:
        page = ctx.new_page()
        root = folder.resolve().as_uri()
        outside: list[str] = []
        errors: list[str] = []
        if block_tiles:
            page.route(re.compile(r"^https?://"), lambda route: route.abort())
        page.on("request", lambda r: None if r.url.startswith(root + "/") or
                r.url.startswith("data:") else outside.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and
                "ERR_FAILED" not in m.text else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        if when is not None:
            page.clock.install(time=when)
        page.goto((folder / "index.html").resolve().as_uri())
        page.wait_for_function("window.BM_READY === true", timeout=15_000)
        yield page, outside, errors
    finally:
        ctx.close()


def _ids(page) -> list[str]:
    return page.eval_on_selector_all("#bm-list [data-outlet-id]",
                                     "es => es.map(e => e.getAttribute('data-outlet-id'))")


@pytest.mark.browser
@pytest.mark.parametrize(("w", "h"), [(1280, 800), (390, 844)])
def test_public_page_offline_no_errors(browser, built, w, h):
    """file://: no request outside the folder, no JS error, every outlet listed, metric scale."""
    with opened(browser, built["dir"], width=w, height=h) as (page, outside, errors):
        assert page.locator("input[type=search]").count() == 1
        if w < 600:
            page.click("#bm-toggle")
        assert len(_ids(page)) == min(30, len(built["region"].outlets))
        assert page.locator(".leaflet-control-scale-line").count() == 1
        assert page.locator(".bm-road").count() == 1  # tiles none: the region's own roads
        page.screenshot(path=str(built["root"] / f"public-{w}.png"))
        assert outside == [] and errors == []


@pytest.mark.browser
def test_item_search_lists_its_outlets_nearest_first(browser, built):
    """An item's name lists exactly the outlets that handle it, nearest first from the user."""
    region, items = built["region"], built["items"]
    counts = items.handles.sum(axis=0)
    j = int(np.flatnonzero((counts >= 2) & (counts < len(region.outlets)))[0])
    name = str(items.catalogue["name"].iloc[j])
    handlers = region.outlets[items.handles[:, j]]
    at = (104.10, 30.66)
    # straight-line order worked out here (equirectangular; ties impossible at this spread)
    dx = (handlers["lon"] - at[0]) * np.cos(np.radians(at[1]))
    dy = handlers["lat"] - at[1]
    want = handlers["id"].to_numpy()[np.argsort(np.hypot(dx, dy).to_numpy(), kind="stable")]
    with opened(browser, built["dir"], at=at) as (page, outside, errors):
        page.click("#bm-locate")
        page.wait_for_function("document.getElementById('bm-status').textContent.length > 0")
        page.fill("#bm-q", name)
        assert _ids(page) == list(want)
        assert "估算" in page.inner_text("#bm-list .bm-dist >> nth=0")
        nearest = page.inner_text("#bm-nearest")
        assert nearest.startswith("最近可办：") and "分钟（步行）" in nearest
        cell = built["grid"].cell_of(np.array([at[0]]), np.array([at[1]]))[0]
        g = built["grid"].item_group[j]
        assert region.outlets["name"].iloc[built["grid"].nearest[cell, g]] in nearest
        assert outside == [] and errors == []


@pytest.mark.browser
def test_pinyin_initials_find_the_item(browser, built):
    """`sbk` and `shebao` offer 社保卡 items; picking one lists its outlets."""
    with opened(browser, built["dir"]) as (page, outside, errors):
        for q in ("sbk", "shebao"):
            page.fill("#bm-q", q)
            chips = page.locator(".bm-chip").all_inner_texts()
            assert chips and all("社保" in c for c in chips), chips
        page.locator(".bm-chip").first.click()
        name = page.input_value("#bm-q")
        j = int(np.flatnonzero(built["items"].catalogue["name"] == name)[0])
        want = set(built["region"].outlets["id"][built["items"].handles[:, j]])
        assert set(_ids(page)) == want
        assert errors == []


@pytest.mark.browser
def test_navigation_links_carry_converted_coordinates(browser, built):
    """Amap gets GCJ-02, Baidu BD-09, geo: WGS-84, each as prcoords computes them (±2e-6°)."""
    o = built["region"].outlets.iloc[0]
    with opened(browser, built["dir"]) as (page, outside, errors):
        entry = page.locator(f'#bm-list li[data-outlet-id="{o["id"]}"]')
        amap = entry.locator(".bm-nav-amap").get_attribute("href")
        baidu = entry.locator(".bm-nav-baidu").get_attribute("href")
        geo = entry.locator(".bm-nav-geo").get_attribute("href")
    gcj = prcoords.wgs_gcj(prcoords.Coords(o.lat, o.lon))
    bd = prcoords.wgs_bd(prcoords.Coords(o.lat, o.lon))
    lon, lat = map(float, re.search(r"position=([\d.]+),([\d.]+)", amap).groups())
    assert abs(lon - gcj.lon) < 2e-6 and abs(lat - gcj.lat) < 2e-6
    lat, lon = map(float, re.search(r"location=([\d.]+),([\d.]+)", baidu).groups())
    assert abs(lon - bd.lon) < 2e-6 and abs(lat - bd.lat) < 2e-6 and "coord_type=bd09ll" in baidu
    lat, lon = map(float, re.search(r"^geo:([\d.]+),([\d.]+)", geo).groups())
    assert abs(lon - o.lon) < 2e-6 and abs(lat - o.lat) < 2e-6


@pytest.mark.browser
@pytest.mark.parametrize(("when", "want"), [
    (dt.datetime(2025, 12, 3, 10, 0), "open"),     # Wednesday morning
    (dt.datetime(2025, 12, 3, 12, 30), "closed"),  # Wednesday lunch break
    (dt.datetime(2025, 12, 6, 10, 0), "off"),      # Saturday
    (dt.datetime(2025, 10, 1, 10, 0), "off"),      # National Day, a Wednesday
    (dt.datetime(2025, 9, 28, 10, 0), "open"),     # Sunday, a make-up working day (调休)
])
def test_open_now_follows_the_clock(browser, built, when, want):
    """开放中 / 已关闭 / 今日休息 from the viewer's clock, holidays and make-up days applied."""
    region = built["region"]
    pos = int(np.flatnonzero(region.outlets["hours"].astype(str).str.startswith(
        "周一至周五 09:00-12:00, 13:30-17:30"))[0])
    oid = region.outlets["id"].iloc[pos]
    when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with opened(browser, built["dir"], when=when) as (page, outside, errors):
        badge = page.locator(f'#bm-list li[data-outlet-id="{oid}"] .bm-badge')
        assert badge.get_attribute("data-status") == want
        assert badge.inner_text() == {"open": "开放中", "closed": "已关闭", "off": "今日休息"}[want]
        assert errors == []


@pytest.mark.browser
def test_tiles_unreachable_shows_the_roads(browser, built, tmp_path):
    """OSM tiles that fail: one notice, and the region's own roads are drawn."""
    items = built["items"]
    write_public_map(built["region"], tmp_path, items=items, grid=None,
                     options=MapOptions(tiles="osm"), today=TODAY)
    folder = tmp_path / "map" / "public"
    with opened(browser, folder, block_tiles=True) as (page, outside, errors):
        page.wait_for_selector(".bm-road", timeout=10_000)
        assert page.locator("#bm-notice").inner_text() == "底图无法加载，已显示本地道路"
        assert all("tile.openstreetmap.org" in u for u in outside)
        assert errors == []
