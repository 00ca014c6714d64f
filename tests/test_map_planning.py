"""The planning map's item layers (#14.6), delegation badge (#13.3), unreachable layer (#12) and
the index page's item table (#13.5), on Andorra (catalogue, islands), in headless Chromium."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bianmin.index_page import write_index
from gis.circles import circles_of_region
from gis.coverage import coverage_of_region
from gis.items import item_coverage_of_region, uncovered_by_set
from gis.region import load_region
from maps import MapOptions, write_map
from tests.conftest import DATA
from tests.test_map import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.xdist_group("map")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Andorra's planning map with item coverage and a two-pair delegation."""
    region = load_region(DATA / "andorra")
    cov = coverage_of_region(region)
    ic = item_coverage_of_region(region, base=cov)
    assert ic is not None
    o = region.outlets["id"].astype(str).tolist()
    names = ic.items["item_name"].tolist()
    chosen = pd.DataFrame({"outlet_id": [o[0], o[0], o[1]],
                           "item_name": [names[0], names[1], names[2]], "rank": [2, 1, 3]})
    out = tmp_path_factory.mktemp("planning")
    sm = write_map(region, cov, circles_of_region(region), out, items=ic, delegation=chosen,
                   options=MapOptions(tiles="none"))
    write_index(out, title="Andorra", summary_lines=[], items=ic)
    return {"region": region, "cov": cov, "ic": ic, "sm": sm, "out": out, "o": o,
            "names": names}


@pytest.fixture(scope="module")
def page(built):
    """The planning page opened from disk."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = b.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto((built["out"] / "map" / "planning" / "index.html").resolve().as_uri())
        pg.wait_for_function("window.BM_READY === true", timeout=30_000)
        yield pg
        assert not errors
        b.close()


def test_uncovered_by_set_matches_item_figures(built):
    """Each item's uncovered points hold exactly its population outside the circle."""
    ic, region = built["ic"], built["region"]
    sets = uncovered_by_set(ic)
    pop = region.demand["population"].to_numpy(float)
    for j, r in enumerate(ic.items.itertuples(index=False)):
        idx = sets[ic.item_set[j]]
        assert np.isclose(pop[idx].sum(), r.population - r.covered_population)


@pytest.mark.browser
def test_choosing_an_item_shows_its_uncovered_points(built, page):
    """Picking an item in the select draws exactly its uncovered points (count and people)."""
    ic = built["ic"]
    sets = uncovered_by_set(ic)
    pop = built["region"].demand["population"].to_numpy(float)
    worst = ic.worst(len(ic.items))
    tried = 0
    for item_id in [worst["item_id"].iloc[0], worst["item_id"].iloc[-1],
                    worst["item_id"].iloc[len(worst) // 2]]:
        j = int(np.flatnonzero(ic.items["item_id"].to_numpy() == item_id)[0])
        idx = sets[ic.item_set[j]]
        value = page.eval_on_selector(f'#bm-item option[data-item-id="{item_id}"]', "o => o.value")
        page.select_option("#bm-item", value)
        n_drawn = page.evaluate("BM.items.layer.getLayers().length")
        assert n_drawn == len(idx)
        info = page.locator("#bm-item-info")
        assert int(info.get_attribute("data-points") or -1) == len(idx)
        assert int(info.get_attribute("data-population")) == round(sum(np.round(pop[idx])))
        tried += 1
    assert tried == 3
    assert len(sets[ic.item_set[int(np.flatnonzero(ic.items["item_id"] ==
                                                   worst["item_id"].iloc[0])[0])]]) > 0
    page.select_option("#bm-item", "")
    assert page.evaluate("BM.items.layer.getLayers().length") == 0


@pytest.mark.browser
def test_delegated_outlet_has_badge(built, page):
    """The outlet given two items shows 新增事项 with both names, in rank order; others none."""
    names = built["names"]
    assert page.locator(".bm-delegated").count() == 2
    text = page.evaluate("""(id) => {
        let out = null;
        window.BM_TEST_MAP = window.BM_TEST_MAP ||
            window[Object.keys(window).find(k => k.startsWith('map_'))];
        BM_TEST_MAP.eachLayer(l => {
            if (l.feature && l.feature.properties && l.feature.properties.id === id) {
                l.openPopup(); out = l.getPopup().getElement().textContent; l.closePopup();
            }
        });
        return out;
    }""", built["o"][0])
    assert f"新增事项: {names[1]}；{names[0]}" in text


@pytest.mark.browser
def test_unreachable_layer_has_reasons(built, page):
    """One ring per unreachable point; popups carry the reason and its detail."""
    u = built["cov"].unreachable
    assert len(u) > 0  # Andorra has unreachable people (issue #12)
    texts = page.evaluate("""() => {
        const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
        const out = [];
        map.eachLayer(l => {
            if (l.options && l.options.className === 'bm-unreachable') {
                l.openPopup(); out.push(l.getPopup().getElement().textContent); l.closePopup();
            }
        });
        return out;
    }""")
    assert len(texts) == len(u)
    joined = "\n".join(texts)
    for detail in set(u["unreachable_detail"]):
        assert detail in joined
    assert any(("离道路太远" in t) or ("孤岛" in t) for t in texts)


def test_index_shows_item_table_worst_first(built):
    """OUT/index.html lists every item, lowest rate first, with outlets, rate and weight."""
    html = (built["out"] / "index.html").read_text(encoding="utf-8")
    ic = built["ic"]
    worst = ic.worst(len(ic.items))
    pos = [html.index(f'data-item-id="{i}"') for i in worst["item_id"]]
    assert pos == sorted(pos)
    first = worst.iloc[0]
    row = html[pos[0]:html.index("</tr>", pos[0])]
    assert f"<td>{first['item_name']}</td><td>{int(first['outlets'])}</td>" in row
    assert f"{first['coverage_rate']:.1%}" in row
