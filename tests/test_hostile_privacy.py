"""Personal data (issue #10): a citizen's name, phone, address, note, items and exact home
position reach only the runner's own sheet and the dispatcher's workbook, never plan.json, the
map, the index, the CSVs or the log."""

from __future__ import annotations

import json
import subprocess
import zipfile

import pytest

from routing.io import PLAN_FIELDS, ROUTE_FIELDS, STOP_FIELDS
from tests.hostile_data import add_day_files, copy_region, errands_frame, run_cli, runners_frame

pytestmark = pytest.mark.slow

NAME = "王秘密"
PHONE = "13812345678"
ID_NUMBER = "110101199003071234"
ADDRESS = "幸福路88号3单元501室"
ITEMS = "户口本原件"
RUNNER = "赵跑手"
VALUES = {
    "contact_name": lambda i: f"{NAME}{i}",
    "contact_phone": lambda i: PHONE,
    "address": lambda i: f"{ADDRESS}{i}",
    "note": lambda i: f"身份证 {ID_NUMBER} 电话 {PHONE}",
    "items": lambda i: f"{ITEMS}{i}",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`bianmin -v demo` with personal data in every errand field: output folder, log, errands."""
    root = tmp_path_factory.mktemp("privacy")
    reg = copy_region(root / "andorra")
    errands = errands_frame(lambda field, i: VALUES[field](i), coords=6)
    add_day_files(reg, errands, runners_frame(["R1", "R2"], [f"{RUNNER}一", f"{RUNNER}二"]))
    out = root / "out"
    res = run_cli(["-v", "demo", "--region", str(reg), "--out", str(out), "--tiles", "none",
                   "--time-limit", "5", "--date", "2026-11-26"])
    assert res.exit_code == 0, res.output
    return {"out": out, "log": res.output, "errands": errands}


def _secrets(errands) -> list[str]:
    """Every personal string planted; each home position to 6 decimals, and as a 5-decimal
    ``lon,lat`` pair (how GeoJSON would write it)."""
    out = [NAME, PHONE, ID_NUMBER, ADDRESS, ITEMS, RUNNER]
    for end in ("pickup", "delivery"):
        for lon, lat in zip(errands[f"{end}_lon"], errands[f"{end}_lat"], strict=True):
            if lon != "":
                out += [f"{float(lon):.6f}", f"{float(lat):.6f}",
                        f"{round(float(lon), 5)!r},{round(float(lat), 5)!r}"]
    return out


def _text_of(path) -> str:
    """A file as text: xlsx and zip parts unpacked, PDFs through pdftotext."""
    if path.suffix in (".xlsx", ".gpkg") and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")
    return path.read_bytes().decode("utf-8", "replace")


def test_no_personal_data_outside_sheets_and_workbook(run):
    """Search every output file (recursively) and the log for the planted personal data."""
    out = run["out"]
    secrets = _secrets(run["errands"])
    allowed = {out / "routes" / "routes.xlsx"}
    checked = 0
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if path in allowed or path.parent == out / "routes" / "sheets":
            continue
        text = _text_of(path)
        for s in secrets:
            assert s not in text, (s, path.relative_to(out))
        checked += 1
    assert checked >= 15
    for s in secrets:
        assert s not in run["log"], s
    assert "INFO" in run["log"]  # the log was really captured


def test_personal_data_is_on_the_sheets(run):
    """The planted data is where it belongs (so the search above could find it): the runner's
    sheet (phone masked) and the workbook."""
    sheets = "".join(_text_of(p) for p in (run["out"] / "routes" / "sheets").glob("*.html"))
    assert NAME in sheets and ADDRESS in sheets and "138****5678" in sheets
    # call links are off by default: no full number anywhere in the runner's sheet
    assert PHONE not in sheets and ID_NUMBER not in sheets  # not even in the note or a link
    pdfs = "".join(_text_of(p) for p in (run["out"] / "routes" / "sheets").glob("*.pdf"))
    assert NAME in pdfs and PHONE not in pdfs
    assert NAME in _text_of(run["out"] / "routes" / "routes.xlsx")


def test_plan_json_keeps_to_its_allow_list(run):
    """plan.json carries only allow-listed keys; home stops at 0.01°, hall stops exact."""
    plan = json.loads((run["out"] / "routes" / "plan.json").read_text(encoding="utf-8"))
    assert set(plan) <= set(PLAN_FIELDS)
    stops = [s for r in plan["routes"] for s in r["stops"]]
    assert len(stops) == 7  # 3 pairs and a home visit, all served
    for r in plan["routes"]:
        assert set(r) <= set(ROUTE_FIELDS)
    for s in stops:
        assert set(s) <= set(STOP_FIELDS)
        if s["at_hall"]:
            assert (s["lon"], s["lat"]) == (round(1.5283929, 5), round(42.5073187, 5))
        else:
            assert s["lon"] == round(s["lon"], 2) and s["lat"] == round(s["lat"], 2)
    assert sum(s["at_hall"] for s in stops) == 2  # pickup_to_hall delivery, hall_to_home pickup
