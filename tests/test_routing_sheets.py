"""Route sheets: the PDF really shows Chinese, the workbook has its dropdown, writes are atomic."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from test_routing_helpers import synthetic_area

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
from routing.sheets import sheet_names
from routing.svgmap import route_svg
from routing.xlsx import STATUS_CHOICES


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, object]:
    """A small plan written once (with PDFs) for every test here."""
    outlets, demand = synthetic_area(2)
    errands = errands_from_frame(demo_errands(outlets, demand, n=8, seed=3),
                                 hall_ids=outlets["id"])
    runners = runners_from_frame(demo_runners(outlets, n=2, seed=3), base_ids=outlets["id"])
    plan = plan_day(errands, runners, outlets, matrices=haversine_matrices,
                    date=dt.date(2026, 11, 26), region="测试区 Test", params=SolveParams(
                        time_limit_s=1.0))
    folder = tmp_path_factory.mktemp("routes")
    write_routes(plan, folder)
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
    """The HTML sheet shows the inline SVG map, masked phones and a signature column."""
    folder, plan = written
    route = next(r for r in plan.routes if r.stops)
    stem = sheet_names([route.runner_id])[route.runner_id].stem
    html = (folder / "sheets" / f"{stem}.html").read_text(encoding="utf-8")
    assert "<svg" in html and "签字" in html and "viewport" in html
    phone = route.stops[0].contact_phone
    assert mask_phone(phone) in html and phone not in html


def test_xlsx_has_status_dropdown(written) -> None:
    """Each runner sheet carries a list validation on the status column; a summary exists."""
    folder, plan = written
    wb = load_workbook(folder / "routes.xlsx")
    assert wb.sheetnames[0] == "汇总 Summary"
    ws = wb[_busy(plan)]
    dvs = ws.data_validations.dataValidation
    assert len(dvs) == 1 and dvs[0].type == "list"
    assert STATUS_CHOICES[1] in dvs[0].formula1
    assert "J" in str(dvs[0].sqref)


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
    """The map has the base and a numbered marker per stop."""
    svg = route_svg((104.0, 30.0), [(104.01, 30.0, "pickup"), (104.02, 30.01, "delivery")])
    assert svg.count("<rect") == 3 and svg.count("<circle") == 1 and ">2</text>" in svg


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
    assert wb.sheetnames[1:] == [names[i].title for i in ids]
    files = [c.value for c in wb.worksheets[0]["K"] if c.value and c.value.startswith("sheets/")]
    assert sorted(files) == sorted(f"sheets/{names[i].stem}.html" for i in ids)
