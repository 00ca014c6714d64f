"""Stored cross-site scripting (issue #10): script planted in every text field of every input
stays text in the published map, the runner sheets and the index, driven in headless Chromium.

Each planted value carries one of three payloads that set ``window.__xss`` if they ever run
(an ``<img onerror>``, a ``<script>`` and an attribute break-out ``"><svg onload>``) after a
label naming its field, so a page that shows it as text shows the whole string literally.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.hostile_data import (
    add_day_files,
    copy_region,
    edit_area_names,
    edit_csv,
    errands_frame,
    run_cli,
    runners_frame,
)
from tests.test_map import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAYLOADS = ("<img src=x onerror=window.__xss=1>", "<script>window.__xss=1</script>",
            '"><svg onload=window.__xss=1>')


def evil(label: str, i: int = 0) -> str:
    """A field's planted value: ``label`` then one of the payloads."""
    return f"{label}{PAYLOADS[i % len(PAYLOADS)]}"


REGION_NAME = evil("区域", 1)
RUNNER_NAMES = [evil("跑手甲", 0), evil("跑手乙", 2)]
RUNNER_IDS = ["R<b>1</b>", "R/2"]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    """`bianmin demo` on an Andorra copy with script in every text field: the output folder."""
    root = tmp_path_factory.mktemp("xss")
    reg = copy_region(root / "andorra", name=REGION_NAME)
    for f in ("outlets.csv", "candidates.csv"):
        edit_csv(reg / f, **{c: (lambda i, c=c, f=f: evil(f"{f[0]}{c}{i}", i))
                             for c in ("name", "address", "phone", "services")})
        # hours must parse: the payload rides in the free-text note the grammar keeps
        edit_csv(reg / f, hours=lambda i, f=f: f"Mo-Fr 09:00-17:00 ({evil(f'{f[0]}hours{i}', i)})")
    edit_area_names(reg / "areas.geojson", lambda i: evil(f"区{i}", i))
    # the catalogue (outlet_items.csv uses ids): every item name carries a payload
    edit_csv(reg / "items.csv", name=lambda i: evil(f"iname{i}", i),
             category=lambda i: evil(f"icat{i}", i))
    add_day_files(reg, errands_frame(lambda field, i: evil(f"{field}{i}", i)),
                  runners_frame(RUNNER_IDS, RUNNER_NAMES))
    out = root / "out"
    res = run_cli(["demo", "--region", str(reg), "--out", str(out), "--tiles", "none",
                   "--time-limit", "5", "--date", "2026-11-26", "--quiet"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def opened(browser, path, *, ready: str | None = None):
    """A page opened from disk; yields it, then checks no payload ran."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.resolve().as_uri())
        if ready:
            page.wait_for_function(ready, timeout=15_000)
        yield page
        page.wait_for_timeout(200)  # let any late onerror/onload fire
        assert page.evaluate("typeof window.__xss") == "undefined", path
        assert not dialogs
    finally:
        ctx.close()


def test_map_search_popups_legend_and_title_stay_text(browser, demo_out):
    """Search tips, every popup and tooltip, the legend and the title show the payloads as
    text; none runs."""
    with opened(browser, demo_out / "map" / "planning" / "index.html",
                ready="window.BM_READY === true") \
            as page:
        assert page.title() == f"{REGION_NAME} 政务服务地图"
        assert REGION_NAME in page.inner_text(".bm-legend")
        box = page.locator(".leaflet-control-search input.search-input")
        box.click()
        box.type("oname", delay=30)  # every outlet name: "oname<i><payload>"
        page.wait_for_selector(".search-tip", timeout=5_000)
        tips = page.locator(".search-tip").all_inner_texts()
        assert evil("oname0", 0) in tips and evil("oname1", 1) in tips
        page.locator(".search-tip").first.click()
        page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
        box.fill("")
        box.type("zzz-nothing", delay=10)
        box.press("Enter")
        page.wait_for_timeout(300)
        # every popup and tooltip on the map, opened one by one
        texts = page.evaluate("""() => {
            const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
            const out = [];
            map.eachLayer(l => {
                if (l.getPopup && l.getPopup() && (l.getLatLng || l.getBounds)) {
                    l.openPopup(l.getLatLng ? l.getLatLng() : l.getBounds().getCenter());
                    out.push(l.getPopup().getElement().textContent);
                    l.closePopup();
                }
                if (l.getTooltip && l.getTooltip() && l.getBounds) {
                    l.openTooltip(l.getBounds().getCenter());
                    out.push(l.getTooltip().getElement().textContent);
                    l.closeTooltip();
                }
            });
            return out;
        }""")
        joined = "\n".join(texts)
        for i in range(2):
            for field in ("name", "address", "phone", "hours"):
                assert evil(f"o{field}{i}", i) in joined, field
            assert PAYLOADS[i] in joined
        assert evil("区0", 0) in joined  # area tooltips and uncovered popups
        assert evil("cname0", 0) in joined  # a proposal (from candidates.csv) popup
        page.locator(".leaflet-control-layers").hover()


def test_planning_item_select_badges_and_unreachable_stay_text(browser, demo_out):
    """The item selector's options, the chosen item's popups, the delegation badges and the
    unreachable popups show the payloads as text; none runs."""
    import pandas as pd

    chosen = pd.read_csv(demo_out / "delegation" / "chosen.csv", dtype=str)
    assert len(chosen) > 0
    with opened(browser, demo_out / "map" / "planning" / "index.html",
                ready="window.BM_READY === true") as page:
        options = page.eval_on_selector_all("#bm-item option", "os => os.map(o => o.text)")
        assert any(o.startswith(evil("iname0", 0)) for o in options)
        assert any(o.startswith(evil("iname1", 1)) for o in options)
        assert page.eval_on_selector_all("#bm-item option", "os => os.length") > 40
        for k in range(1, 6):  # the worst items have uncovered points: open one popup each
            page.select_option("#bm-item", index=k)
            page.evaluate("BM.items.layer.getLayers().slice(0, 1).forEach(l => "
                          "{ l.openPopup(); l.closePopup(); })")
        texts = page.evaluate("""() => {
            const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
            const out = [];
            map.eachLayer(l => {
                const p = l.feature && l.feature.properties;
                if ((p && p.new_items) || (l.options && l.options.className === 'bm-unreachable')) {
                    l.openPopup(); out.push(l.getPopup().getElement().textContent); l.closePopup();
                }
            });
            return out;
        }""")
        joined = "\n".join(texts)
        for name in chosen["item_name"]:
            assert name in joined  # the badge shows the evil item names literally
        assert "新增事项" in joined
        assert page.locator(".bm-delegated").count() == chosen["outlet_id"].nunique()


def test_public_map_search_list_and_popups_stay_text(browser, demo_out):
    """The citizens' map: title, search list, item chips, popups and nav links keep the
    payloads as text; none runs."""
    with opened(browser, demo_out / "map" / "public" / "index.html",
                ready="window.BM_READY === true") as page:
        assert page.title().startswith(REGION_NAME)
        assert REGION_NAME in page.inner_text("#bm-title")
        page.fill("#bm-q", "oname")  # every outlet name: "oname<i><payload>"
        listed = page.inner_text("#bm-list")
        assert evil("oname0", 0) in listed and evil("oname1", 1) in listed
        assert evil("oaddress0", 0) in listed
        ids = page.eval_on_selector_all("#bm-list [data-outlet-id]", "es => es.length")
        assert ids == 2
        page.locator("#bm-list .bm-entry-name").first.click()
        page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
        popup = page.inner_text(".leaflet-popup-content")
        assert "ophone" in popup and "ohours" in popup
        hrefs = page.eval_on_selector_all(".leaflet-popup-content a", "as => as.map(a => a.href)")
        assert all(h.startswith(("https://uri.amap.com/", "https://api.map.baidu.com/", "geo:",
                                 "tel:")) for h in hrefs), hrefs


def test_runner_sheets_stay_text(browser, demo_out):
    """Each runner's sheet shows names, errand text and ids literally; nothing runs."""
    sheets = sorted((demo_out / "routes" / "sheets").glob("*.html"))
    assert len(sheets) == 2
    seen = ""
    for path in sheets:
        with opened(browser, path) as page:
            seen += page.inner_text("body") + page.title()
    for name in RUNNER_NAMES:
        assert name in seen
    for field in ("contact_name", "address", "note", "items"):
        assert any(evil(f"{field}{i}", i) in seen for i in range(4)), field


def test_index_page_stays_text(browser, demo_out):
    """The index page shows the region name literally, links resolve, nothing runs."""
    with opened(browser, demo_out / "index.html") as page:
        assert REGION_NAME in page.title()
        assert REGION_NAME in page.inner_text("h1")
        table = page.inner_text("table.items")
        assert evil("iname0", 0) in table and evil("iname2", 2) in table
        hrefs = page.eval_on_selector_all("a", "as => as.map(a => a.href)")
        assert len(hrefs) >= 8
    from urllib.parse import unquote, urlparse

    for h in hrefs:
        assert __import__("pathlib").Path(unquote(urlparse(h).path)).is_file(), h
