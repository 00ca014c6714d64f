"""Route sheets: the PDF really shows Chinese, the workbook has its dropdown, writes are atomic."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from openpyxl import load_workbook
from test_routing_helpers import synthetic_area

from gis.network import RoadNetwork
from routing import (
    SolveParams,
    demo_errands,
    demo_runners,
    errands_from_frame,
    haversine_matrices,
    mask_phone,
    plan_day,
    runners_from_frame,
    write_routes,
)
from routing.region_day import road_legs
from routing.sheets import LEDGER_TITLE, render_sheet_html, sheet_names
from routing.svgmap import MARKER_R, route_svg
from routing.tables import fmt_hhmm
from routing.xlsx import LEDGER_COLS, STATUS_CHOICES, STOP_COLS

SVG = "{http://www.w3.org/2000/svg}"


def _markers(svg: str) -> tuple[ET.Element, dict[int, ET.Element]]:
    """The base marker and the stop markers by their order number, from an SVG map."""
    root = ET.fromstring(svg)
    groups = [g for g in root.iter(f"{SVG}g") if "marker" in g.get("class", "").split()]
    base = [g for g in groups if "base" in g.get("class", "").split()]
    assert len(base) == 1
    return base[0], {int(g.get("data-order")): g for g in groups
                     if "stop" in g.get("class", "").split()}


def _at(g: ET.Element) -> tuple[float, float]:
    """A marker's centre, from its ``translate(x,y)``."""
    x, y = re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", g.get("transform")).groups()
    return float(x), float(y)


def _sheet_html(folder: Path, route) -> str:
    stem = sheet_names([route.runner_id])[route.runner_id].stem
    return (folder / "sheets" / f"{stem}.html").read_text(encoding="utf-8")


def _hrefs(html: str, prefix: str) -> list[str]:
    return [htmllib.unescape(h) for h in re.findall(r'href="([^"]+)"', html)
            if htmllib.unescape(h).startswith(prefix)]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, object]:
    """A small plan written once (with PDFs) for every test here."""
    outlets, demand = synthetic_area(2)
    frame = demo_errands(outlets, demand, n=8, seed=3)
    frame.loc[2, "skill"] = "税务"  # E003: a skill neither runner has -> left out
    errands = errands_from_frame(frame, hall_ids=outlets["id"])
    runners = runners_from_frame(demo_runners(outlets, n=2, seed=3), base_ids=outlets["id"])
    plan = plan_day(errands, runners, outlets, matrices=haversine_matrices,
                    date=dt.date(2026, 11, 26), region="测试区 Test", params=SolveParams(
                        time_limit_s=1.0))
    folder = tmp_path_factory.mktemp("routes")
    write_routes(plan, folder, call_links=True)  # the call-link tests below need them on
    return folder, plan


def _busy(plan) -> str:
    return next(r.runner_id for r in plan.routes if r.stops)


def test_pdf_renders_chinese(written, tmp_path: Path) -> None:
    """pdftotext finds the Chinese labels and a page rendered at 50 dpi is not blank."""
    folder, plan = written
    pdf = folder / "sheets" / f"{_busy(plan)}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "跑手路线单" in text and "取件" in text and "示例数据" in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    from PIL import Image

    png = next(tmp_path.glob("page*.png"))
    a = np.asarray(Image.open(png).convert("L"))
    dark = (a < 128).mean()
    assert 0.01 < dark < 0.5  # ink on the page, but not a black page


def test_pdf_text_is_not_tofu(written) -> None:
    """The CJK glyphs come from a CJK font (Noto Sans CJK), not missing-glyph boxes."""
    folder, plan = written
    fonts = subprocess.run(["pdffonts", str(folder / "sheets" / f"{_busy(plan)}.pdf")],
                           capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts


def test_html_sheet_has_map_masked_phone_and_sign_box(written) -> None:
    """The HTML sheet shows the inline SVG map, masked phones (the full number only in the
    call link) and a signature column."""
    folder, plan = written
    route = next(r for r in plan.routes if r.stops)
    stem = sheet_names([route.runner_id])[route.runner_id].stem
    html = (folder / "sheets" / f"{stem}.html").read_text(encoding="utf-8")
    assert "<svg" in html and "签字" in html and "viewport" in html
    phone = route.stops[0].contact_phone
    visible = re.sub(r'href="tel:[^"]*"', "", html)
    assert mask_phone(phone) in visible and phone not in visible


def test_xlsx_has_status_dropdown(written) -> None:
    """Each runner sheet carries a list validation on the status column; a summary exists."""
    folder, plan = written
    wb = load_workbook(folder / "routes.xlsx")
    assert wb.sheetnames[0] == "汇总 Summary"
    ws = wb[_busy(plan)]
    dvs = ws.data_validations.dataValidation
    assert len(dvs) == 1 and dvs[0].type == "list"
    assert STATUS_CHOICES[1] in dvs[0].formula1
    hdr = _header_row(ws, STOP_COLS[0])
    col = "ABCDEFGHIJKL"[STOP_COLS.index("状态 Status")]
    route = next(r for r in plan.routes if r.runner_id == _busy(plan))
    assert str(dvs[0].sqref) == f"{col}{hdr + 1}:{col}{hdr + len(route.stops)}"
    assert ws[f"{col}{hdr + 1}"].value == STATUS_CHOICES[0]


def test_plan_json_without_personal_data_and_no_temp_files(written) -> None:
    """plan.json has no names/phones; no temporary files are left behind."""
    folder, plan = written
    data = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert data["n_served"] == plan.n_served
    assert "contact_phone" not in json.dumps(data) and "runner_name" not in json.dumps(data)
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_write_refuses_invalid_plan(written, tmp_path: Path) -> None:
    """A plan whose check failed is never written."""
    from copy import deepcopy

    plan = deepcopy(written[1])
    plan.check.problems.append("broken")
    with pytest.raises(ValueError, match="refusing"):
        write_routes(plan, tmp_path / "x")
    assert not (tmp_path / "x" / "plan.json").exists()


@pytest.mark.parametrize("raw, masked", [("13812345678", "138****5678"),
                                         ("138-1234-5678", "138****5678"), ("12", "**")])
def test_mask_phone(raw: str, masked: str) -> None:
    """Phones keep the first three and last four digits."""
    assert mask_phone(raw) == masked


def test_svg_map_draws_every_stop() -> None:
    """The map has the base and a numbered marker per stop (pickup square, delivery circle)."""
    svg = route_svg((104.0, 30.0), [(104.01, 30.0, "pickup"), (104.02, 30.01, "delivery")])
    base, stops = _markers(svg)
    assert len(stops) == 2 and base.find(f"{SVG}rect") is not None
    assert stops[1].find(f"{SVG}rect") is not None and stops[2].find(f"{SVG}circle") is not None
    assert [t.text for t in stops[2].iter(f"{SVG}text")] == ["2"]


HOSTILE_IDS = ["a/b", "a_b", "A_B", "CON", "con", "x" * 80, "y" * 40, "张三", "History",
               "汇总 Summary", "R01", "../../etc", "", "a:b*c?[d]\\e"]


def test_sheet_names_unique_safe_and_short() -> None:
    """Ids a disk or Excel would confuse get distinct, safe file stems and sheet titles."""
    names = sheet_names(HOSTILE_IDS)
    stems = [n.stem for n in names.values()]
    titles = [n.title for n in names.values()]
    assert len({s.casefold() for s in stems}) == len(HOSTILE_IDS)  # also on Windows/macOS
    assert len({t.casefold() for t in titles} | {"汇总 summary", "history"}) == \
        len(HOSTILE_IDS) + 2
    for s in stems:
        assert 0 < len(s) <= 64 and s[0].isalnum()
        assert all(ch.isalnum() or ch in "-_" for ch in s), s
        assert s.upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    for t in titles:
        assert 0 < len(t) <= 31 and not set(t) & set("[]:*?/\\"), t
    assert names["R01"] == ("R01", "R01") and names["张三"].stem == "张三"  # safe ids kept
    assert names["a/b"].stem.startswith("a_b-") and names["a_b"].stem != names["a/b"].stem
    assert sheet_names(["a/b"])["a/b"] == sheet_names(["a/b", "q"])["a/b"]  # stable


def test_clashing_runner_ids_write_distinct_sheets(tmp_path: Path) -> None:
    """Runners `a/b`, `a_b`, `CON` and an 80-character id: one file and one sheet each."""
    outlets, demand = synthetic_area(2)
    errands = errands_from_frame(demo_errands(outlets, demand, n=6, seed=3),
                                 hall_ids=outlets["id"])
    ids = ["a/b", "a_b", "CON", "z" * 80]
    frame = demo_runners(outlets, n=4, seed=3).assign(id=ids)
    runners = runners_from_frame(frame, base_ids=outlets["id"])
    plan = plan_day(errands, runners, outlets, matrices=haversine_matrices,
                    date=dt.date(2026, 11, 26), params=SolveParams(time_limit_s=1.0))
    write_routes(plan, tmp_path, pdf=False)
    html = sorted(p.name for p in (tmp_path / "sheets").glob("*.html"))
    names = sheet_names(ids)
    assert html == sorted(f"{names[i].stem}.html" for i in ids)
    for i in ids:  # each file is that runner's sheet
        text = (tmp_path / "sheets" / f"{names[i].stem}.html").read_text(encoding="utf-8")
        assert f"({i})" in text.replace("&#34;", '"')
    wb = load_workbook(tmp_path / "routes.xlsx")
    assert wb.sheetnames[2:] == [names[i].title for i in ids]
    files = [c.value for c in wb.worksheets[0]["K"] if c.value and c.value.startswith("sheets/")]
    assert sorted(files) == sorted(f"sheets/{names[i].stem}.html" for i in ids)


def test_nav_links_carry_converted_coordinates(written) -> None:
    """Each stop's Amap link has its point in GCJ-02 and its Baidu link in BD-09 (as prcoords)."""
    import prcoords

    folder, plan = written
    route = next(r for r in plan.routes if r.stops)
    html = _sheet_html(folder, route)
    amap = _hrefs(html, "https://uri.amap.com/navigation?")
    baidu = _hrefs(html, "https://api.map.baidu.com/marker?")
    assert len(amap) == len(baidu) == len(route.stops)
    for s, a, b in zip(route.stops, amap, baidu, strict=True):
        q = parse_qs(urlsplit(a).query)
        lon, lat, label = q["to"][0].split(",", 2)
        want = prcoords.wgs_gcj(prcoords.Coords(s.lat, s.lon))
        assert abs(float(lon) - want.lon) < 2e-6 and abs(float(lat) - want.lat) < 2e-6
        assert abs(float(lon) - s.lon) > 1e-3  # really converted (Chengdu: ~250 m off)
        assert q["coordinate"] == ["gaode"] and label == f"{s.order}. {s.errand_id}"
        q = parse_qs(urlsplit(b).query)
        blat, blon = (float(v) for v in q["location"][0].split(","))
        want = prcoords.wgs_bd(prcoords.Coords(s.lat, s.lon))
        assert abs(blon - want.lon) < 2e-6 and abs(blat - want.lat) < 2e-6
        assert q["coord_type"] == ["bd09ll"]


def test_call_link_dials_full_number_but_shows_it_masked(written) -> None:
    """The phone sheet's call link is ``tel:`` + the full number, its text masked; the print
    version has no call link and no full number."""
    folder, plan = written
    route = next(r for r in plan.routes if r.stops)
    html = _sheet_html(folder, route)
    tels = _hrefs(html, "tel:")
    assert tels == [f"tel:{s.contact_phone}" for s in route.stops]
    visible = re.sub(r'href="tel:[^"]*"', "", html)
    for s in route.stops:
        assert s.contact_phone not in visible and s.phone_masked in visible
    printed = render_sheet_html(plan, route, for_print=True)
    assert "tel:" not in printed
    assert not any(s.contact_phone in printed for s in route.stops)


def test_pdf_qr_codes_decode_to_the_navigation_links(written, tmp_path: Path) -> None:
    """Every stop's QR code in the PDF, rasterised and decoded, is that stop's Amap link."""
    import zxingcpp
    from PIL import Image

    folder, plan = written
    route = next(r for r in plan.routes if r.stops)
    stem = sheet_names([route.runner_id])[route.runner_id].stem
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(folder / "sheets" / f"{stem}.pdf"),
                    str(tmp_path / "page")], check=True)
    decoded = [b.text for png in sorted(tmp_path.glob("page*.png"))
               for b in zxingcpp.read_barcodes(Image.open(png).convert("L"))
               if b.format == zxingcpp.BarcodeFormat.QRCode]
    want = _hrefs(_sheet_html(folder, route), "https://uri.amap.com/navigation?")
    assert sorted(decoded) == sorted(want)


def test_svg_markers_never_hide_each_other() -> None:
    """The base and stop 1 on one spot, three stops at one hall: every marker is drawn, no
    two overlap, and the moved ones get a leader line to their spot."""
    hall = (104.02, 30.01, "pickup")
    stops = [(104.0, 30.0, "delivery"), hall, hall, hall, (104.05, 30.03, "visit")]
    svg = route_svg((104.0, 30.0), stops)
    base, marks = _markers(svg)
    assert sorted(marks) == [1, 2, 3, 4, 5]
    at = np.array([_at(base), *[_at(marks[i]) for i in range(1, 6)]])
    d = np.hypot(*(at[:, None, :] - at[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 2 * MARKER_R
    assert (at >= MARKER_R).all() and (at[:, 0] <= 320 - MARKER_R).all()
    root = ET.fromstring(svg)
    assert len([e for e in root.iter(f"{SVG}line") if e.get("class") == "leader"]) >= 5
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend"]
    assert legend and "驻点 Base" in "".join(legend[0].itertext())


def test_svg_map_draws_the_road_legs() -> None:
    """Given road paths, the map draws one polyline per leg with every vertex of the path."""
    legs = [np.array([[104.0, 30.0], [104.0, 30.01], [104.01, 30.01]]),
            np.array([[104.01, 30.01], [104.01, 30.0], [104.0, 30.0]])]
    svg = route_svg((104.0, 30.0), [(104.01, 30.01, "visit")], legs=legs)
    lines = [e for e in ET.fromstring(svg).iter(f"{SVG}polyline") if e.get("class") == "leg"]
    assert [len(e.get("points").split()) for e in lines] == [3, 3]
    first = [tuple(map(float, p.split(","))) for p in lines[0].get("points").split()]
    assert first[1][0] == pytest.approx(first[0][0])  # north first, as the road goes
    assert first[2][1] == pytest.approx(first[1][1])  # then east
    assert "stroke-dasharray" not in lines[0].get("stroke-dasharray", "")


def test_road_legs_follow_the_network(written) -> None:
    """On an L-shaped road, a leg goes round the corner (not straight), and ends at the points."""
    plan = written[1]
    route = next(r for r in plan.routes if r.stops)
    lon = np.array([104.0, 104.0, 104.01])  # A, corner, B: ~1.1 km north, ~1 km east
    lat = np.array([30.0, 30.01, 30.01])
    u, v = np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])
    net = RoadNetwork.from_edges(lon=lon, lat=lat, edges={"walk": (u, v, np.full(4, 800.0))})
    stop = replace(route.stops[0], lon=104.0101, lat=30.0101)  # ~15 m off node B
    legs = road_legs(net, replace(route, mode="walk", base_lon=104.0, base_lat=30.0,
                                  stops=[stop]))
    assert len(legs) == 2
    out, back = legs
    assert out[0] == pytest.approx([104.0, 30.0]) and out[-1] == pytest.approx([104.0101, 30.0101])
    assert any(np.allclose(p, [104.0, 30.01]) for p in out)  # round the corner
    assert any(np.allclose(p, [104.0, 30.01]) for p in back)
    assert back[-1] == pytest.approx([104.0, 30.0])


def _header_row(ws, first: str) -> int:
    return next(r[0].row for r in ws.iter_rows() if r[0].value == first)


def test_workbook_print_setup_and_frozen_headers(written) -> None:
    """Every sheet: header rows frozen, landscape A4 fitted to one page wide, header repeated."""
    folder, plan = written
    wb = load_workbook(folder / "routes.xlsx")
    assert wb.sheetnames[:2] == ["汇总 Summary", LEDGER_TITLE]
    firsts = {"汇总 Summary": "跑手 Runner ID", LEDGER_TITLE: LEDGER_COLS[0]}
    for ws in wb.worksheets:
        hdr = _header_row(ws, firsts.get(ws.title, STOP_COLS[0]))
        assert ws.freeze_panes == f"A{hdr + 1}", ws.title
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows.replace("$", "") == f"{hdr}:{hdr}"
        assert ws.column_dimensions["A"].width > 5 and ws.column_dimensions["B"].width > 5


def test_workbook_has_full_phones_the_sheets_masked(written) -> None:
    """The dispatcher's runner tab shows each citizen's full number; the runner's HTML sheet
    shows it masked."""
    folder, plan = written
    route = next(r for r in plan.routes if r.stops)
    ws = load_workbook(folder / "routes.xlsx")[sheet_names([route.runner_id])[
        route.runner_id].title]
    hdr = _header_row(ws, STOP_COLS[0])
    col = STOP_COLS.index("电话 Phone")
    phones = [r[col].value for r in ws.iter_rows(min_row=hdr + 1) if r[0].value is not None]
    assert phones == [s.contact_phone for s in route.stops]
    assert all(len(p) == 11 and "*" not in p for p in phones)
    visible = re.sub(r'href="tel:[^"]*"', "", _sheet_html(folder, route))
    assert all(s.contact_phone not in visible for s in route.stops)


def test_ledger_lists_every_errand_and_the_summary_the_left_out(written) -> None:
    """The ledger has one row per errand (runner, stop numbers, times, or the reason it was left
    out); the summary lists E003 (missing skill) with its reason, items and window."""
    folder, plan = written
    wb = load_workbook(folder / "routes.xlsx")
    ws = wb[LEDGER_TITLE]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=_header_row(ws, LEDGER_COLS[0])
                                                       + 1)]
    col = {name: i for i, name in enumerate(LEDGER_COLS)}
    assert len(rows) == plan.n_served + len(plan.dropped) == 8
    assert "E003" in plan.dropped
    by_id = {r[0]: r for r in rows}
    left = by_id["E003"]
    assert left[col["状态 Status"]] == "未安排 left out" and left[col["跑手 Runner ID"]] is None
    assert "税务" in left[col["原因 Reason"]] and "missing skill" in left[col["Reason (English)"]]
    assert left[col["时间窗 Window"]] == "08:30-10:50"
    for r in plan.routes:
        for s in r.stops:
            row = by_id[s.errand_id]
            assert row[col["跑手 Runner ID"]] == r.runner_id
            key = "取件" if s.role in ("pickup", "visit") else "送达"
            no = next(c for c in LEDGER_COLS if c.startswith(key + "序号"))
            at = next(c for c in LEDGER_COLS if c.startswith(key + "到达"))
            assert row[col[no]] == s.order and row[col[at]] == fmt_hhmm(s.arrival_s)
    summary = wb["汇总 Summary"]
    hit = [[c.value for c in r] for r in summary.iter_rows() if r[0].value == "E003"]
    assert len(hit) == 1
    assert "税务" in hit[0][1] and "missing skill" in hit[0][2]
    assert hit[0][4] == plan.left_out["E003"].items and hit[0][5] == "08:30-10:50"
